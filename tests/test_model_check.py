"""The one list of what a model holds (skbp._model.attributes) is complete.

save, load, unpickling and moving a model between devices all read
:data:`~skbp._model.attributes.FITTED_ATTRIBUTES` and
:data:`~skbp._model.attributes.SETTINGS`: an attribute a fit sets but the list
lacks would make every pickle of such a model fail to load. These tests fit
models every way there is and fail naming the list to fill in.
"""

import itertools
import pickle
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning

from skbp import BPClassifier, BPRegressor
from skbp._model.attributes import (
    FITTED_ATTRIBUTES,
    PLACED_ATTRIBUTES,
    SAVED_ATTRIBUTES,
    SETTINGS,
    check_attribute,
)
from skbp.streaming import fit_chunks

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    return X, (X[:, 0] > 0).astype(int)


def _fitted_every_way():
    """(description, fitted estimator) for every way of fitting one."""
    X, y = _data()
    for cls, solver, early, best, dropout in itertools.product(
        (BPClassifier, BPRegressor),
        ("lbfgs", "sgd", "adam"),
        (False, True),
        (False, True),
        (0.0, 0.3),
    ):
        if dropout and solver == "lbfgs":
            continue
        target = y if cls is BPClassifier else X[:, 0]
        est = cls(
            hidden_layer_sizes=(4,),
            solver=solver,
            early_stopping=early,
            restore_best_weights=best,
            dropout=dropout,
            max_iter=3,
            random_state=0,
        )
        yield f"{cls.__name__} {solver} {early=} {best=} {dropout=}", est.fit(X, target)
        if solver != "lbfgs" and not early:
            yield "then partial_fit", est.partial_fit(X, target)
    est = BPClassifier(hidden_layer_sizes=(4,), max_iter=3)
    yield "validation data", est.fit(X, y, X_val=X, y_val=y)
    est = BPClassifier(hidden_layer_sizes=(4,))
    yield "fit_chunks", fit_chunks(est, [(X, y), (X, y)], classes=[0, 1])


def test_every_attribute_a_fit_sets_is_on_the_list():
    missing = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for how, est in _fitted_every_way():
            params = set(est.get_params(deep=False))
            for name in set(vars(est)) - params:
                if name not in FITTED_ATTRIBUTES and name not in SETTINGS:
                    missing.setdefault(name, how)
                    continue
                check_attribute(est, name, getattr(est, name), saved=False)
    assert not missing, (
        f"fitted attributes {missing} are not in skbp._model.attributes."
        "FITTED_ATTRIBUTES: add each, with its type, whether skbp.save "
        "writes it and whether it lives on the model's device"
    )


def test_settings_set_through_scikit_learn_are_on_the_list():
    from sklearn.callback import ProgressBar

    X, y = _data()
    est = BPClassifier(hidden_layer_sizes=(4,), max_iter=2).set_callbacks(ProgressBar())
    est._doc_link_template = "x"
    with sklearn.config_context(enable_metadata_routing=True):
        est.set_fit_request(sample_weight=True)
    est.fit(X, y)
    extra = set(vars(est)) - set(est.get_params(deep=False)) - set(FITTED_ATTRIBUTES)
    assert extra and extra <= set(SETTINGS), extra - set(SETTINGS)
    loaded = pickle.loads(pickle.dumps(est))
    assert set(vars(loaded)) == set(vars(est))


def test_the_derived_lists_agree():
    assert PLACED_ATTRIBUTES == {
        "coefs_",
        "intercepts_",
        "_best_coefs",
        "_best_intercepts",
        "_optimizer",
        "_dropout_salt",
    }
    # Settings configure an estimator, they are not a model: never saved.
    assert not SAVED_ATTRIBUTES & set(SETTINGS)
    assert not SAVED_ATTRIBUTES & {
        "_optimizer",
        "_random_state",
        "_best_coefs",
        "_best_intercepts",
    }


@pytest.mark.parametrize("name", sorted(FITTED_ATTRIBUTES))
def test_every_attribute_refuses_a_ufunc(name):
    """No check on the list accepts an arbitrary object (what a skops file
    may hold: ``numpy.negative`` is trusted by default)."""
    est = BPClassifier()
    with pytest.raises(ValueError, match=name):
        check_attribute(est, name, np.negative, saved=False)


def _model_with_every_ruled_attribute():
    pd = pytest.importorskip("pandas")
    X, y = _data()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    est = BPClassifier(
        hidden_layer_sizes=(4,),
        solver="adam",
        dropout=0.2,
        early_stopping=True,
        max_iter=3,
        random_state=0,
    )
    return est.fit(frame, y)


def _broken(value):
    """``value`` made to break its layer rule: one more row, or one more."""
    if isinstance(value, np.ndarray):
        return np.concatenate([value, value[:1]])
    if isinstance(value, list):
        return [_broken(value[0]), *value[1:]]
    return value + 1


# coefs_ define the layer widths the others are checked against.
RULED = sorted(
    name for name, a in FITTED_ATTRIBUTES.items() if a.layers and name != "coefs_"
)


@pytest.mark.parametrize("name", RULED)
def test_every_layer_rule_on_the_list_is_enforced(name):
    from skbp._model.attributes import check_model

    est = _model_with_every_ruled_attribute()
    assert name in vars(est), f"the test's model lacks {name}: fit it so"
    check_model(est)
    setattr(est, name, _broken(getattr(est, name)))
    with pytest.raises(ValueError, match=name):
        check_model(est)


@pytest.mark.parametrize(
    "name", sorted(name for name, a in FITTED_ATTRIBUTES.items() if a.weights)
)
def test_weights_on_the_list_must_be_finite_and_of_one_dtype(name):
    from skbp._model.attributes import check_model

    for change in (
        lambda a: np.full_like(a, np.nan),
        lambda a: a.astype(np.float32),
    ):
        est = _model_with_every_ruled_attribute()
        value = getattr(est, name)
        setattr(est, name, [change(value[0]), *value[1:]])
        with pytest.raises(ValueError, match=name):
            check_model(est)
