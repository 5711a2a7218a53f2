"""Your own math, checked by backprop (issue 29).

``activation=`` takes :class:`skbp.core.Activation` objects (alone, or mixed
with names per layer) and ``BPRegressor(loss=...)`` takes
:class:`skbp.core.Loss` objects. An object of a class of your own is checked
before training (``check_gradients=True``): its derivative against finite
differences of its function, once per fit. The objects go through
scikit-learn's machinery (clone, grid search, pickle, joblib); ``skbp.save``
and the ONNX export, which store no code, refuse them.

The classes are defined at module level, so that they pickle.
"""

import importlib.util
import io
import math
import pickle
import sys
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

import skbp
from skbp import BPClassifier, BPRegressor
from skbp.core import (
    ELU,
    Activation,
    BinaryLogLoss,
    HuberLoss,
    Identity,
    LeakyReLU,
    Loss,
    Softmax,
    Tanh,
    namespace_of,
)

_user_math = sys.modules["skbp._estimators.user_math"]


class SoftSign(Activation):
    """f(z) = z / (1 + |z|), f'(z) = 1 / (1 + |z|)^2."""

    name = "softsign"

    def forward(self, Z, out=None):
        xp = namespace_of(Z)
        return xp.divide(Z, 1.0 + xp.abs(Z), out=out)

    def derivative(self, Z, A=None):
        xp = namespace_of(Z)
        d = 1.0 + xp.abs(Z)
        return 1.0 / (d * d)


class WrongSoftSign(SoftSign):
    """The square forgotten: f'(z) = 1 / (1 + |z|)."""

    def derivative(self, Z, A=None):
        xp = namespace_of(Z)
        return 1.0 / (1.0 + xp.abs(Z))


class ScaledTanh(Activation):
    """f(z) = a tanh(b z), LeCun's 1.7159 tanh(2z/3); f' = a b (1 - tanh^2)."""

    name = "scaled_tanh"

    def __init__(self, a=1.7159, b=2.0 / 3.0):
        self.a, self.b = a, b

    def forward(self, Z, out=None):
        xp = namespace_of(Z)
        return self.a * xp.tanh(self.b * Z)

    def derivative(self, Z, A=None):
        xp = namespace_of(Z)
        t = xp.tanh(self.b * Z)
        return self.a * self.b * (1.0 - t * t)


class UnhashableSoftSign(SoftSign):
    """A user's __eq__ without __hash__: not a cache key."""

    def __eq__(self, other):
        return type(other) is type(self)

    __hash__ = None


class NoDerivative(Activation):
    """forward written, derivative forgotten."""

    def forward(self, Z, out=None):
        return Z * 1.0


class LogCosh(Loss):
    """l = sum log cosh(z - y), dl/dz = tanh(z - y), identity output."""

    name = "log_cosh"
    output_activation = Identity()

    def per_sample(self, Y, Z, A):
        xp = namespace_of(A)
        r = xp.abs(A - Y)
        # log cosh r = r + log(1 + e^(-2r)) - log 2, without overflow.
        return xp.sum(r + xp.log1p(xp.exp(-2.0 * r)) - math.log(2.0), axis=1)

    def per_sample_gradient(self, Y, Z, A, out=None):
        xp = namespace_of(A)
        return xp.tanh(A - Y)


class WrongLogCosh(LogCosh):
    def per_sample_gradient(self, Y, Z, A, out=None):
        return 2.0 * (A - Y)


class ShiftedOutput(Identity):
    """An output activation of one's own: f(z) = z + 1."""

    name = "shifted"

    def forward(self, Z, out=None):
        return Z + 1.0


class ShiftedSquaredError(Loss):
    """Half squared error of the shifted output: dl/dz = a - y."""

    name = "shifted_squared_error"
    output_activation = ShiftedOutput()

    def per_sample(self, Y, Z, A):
        return 0.5 * np.sum((A - Y) ** 2, axis=1)


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _data(n=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-2, 2, size=(n, 2))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1]
    return X, y


def _regressor(**params):
    params = {
        "hidden_layer_sizes": (16,),
        "solver": "lbfgs",
        "max_iter": 400,
        "random_state": 0,
        **params,
    }
    return BPRegressor(**params)


def _same_weights(a, b):
    return all(
        np.array_equal(u, v)
        for u, v in zip([*a.coefs_, *a.intercepts_], [*b.coefs_, *b.intercepts_])
    )


# ---------------------------------------------------------------------------
# Right math trains
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {"activation": SoftSign()},
        {"activation": ScaledTanh()},
        {"loss": LogCosh()},
        {"activation": SoftSign(), "loss": LogCosh()},
    ],
    ids=["softsign", "scaled tanh", "log-cosh", "both"],
)
def test_hand_written_math_trains_well(params):
    X, y = _data()
    reg = _regressor(**params).fit(X, y)
    assert reg.score(X, y) > 0.98
    assert reg.out_activation_ == "identity"
    activations = reg._activations()
    if "activation" in params:
        assert activations[0] is params["activation"]  # used as it is


def test_a_stochastic_solver_early_stopping_and_validation_data():
    X, y = _data(200)
    reg = _regressor(
        activation=ScaledTanh(),
        loss=LogCosh(),
        solver="adam",
        learning_rate_init=0.01,
        max_iter=300,
        early_stopping=True,
        n_iter_no_change=20,
    ).fit(X, y)
    assert reg.score(X, y) > 0.9
    assert np.isfinite(reg.validation_loss_curve_).all()
    # The validation loss is the user's loss: log cosh of the residuals.
    reg.fit(X[50:], y[50:], X_val=X[:50], y_val=y[:50])
    residuals = reg.predict(X[:50]) - y[:50]
    expected = np.mean(np.log(np.cosh(residuals)))
    assert reg.validation_loss_curve_[-1] == pytest.approx(expected, rel=1e-6)


def test_partial_fit_trains_with_a_users_loss():
    X, y = _data()
    reg = _regressor(loss=LogCosh(), activation=SoftSign(), solver="adam")
    reg.set_params(learning_rate_init=0.01)
    losses = [reg.partial_fit(X, y).loss_ for _ in range(30)]
    assert losses[-1] < losses[0] / 2


def test_a_users_output_activation_is_the_fitted_output():
    X, y = _data()
    reg = _regressor(loss=ShiftedSquaredError()).fit(X, y)
    assert reg.out_activation_ == "shifted"
    assert reg.score(X, y) > 0.98
    # predict applies the user's output activation.
    Z = reg._forward(X, xp=None) - 1.0
    np.testing.assert_allclose(reg.predict(X), Z[:, 0] + 1.0)


def test_builtin_objects_train_as_their_names():
    X, y = _data()
    by_name = _regressor(loss="huber", huber_delta=0.3, activation="tanh").fit(X, y)
    by_object = _regressor(loss=HuberLoss(delta=0.3), activation=Tanh()).fit(X, y)
    assert _same_weights(by_name, by_object)
    # An object keeps its constants: LeakyReLU(0.3) is not leaky_relu's 0.01.
    leaky = _regressor(activation=LeakyReLU(0.3)).fit(X, y)
    assert leaky._activations()[0].negative_slope == 0.3
    assert not _same_weights(leaky, _regressor(activation="leaky_relu").fit(X, y))


# ---------------------------------------------------------------------------
# Per-layer activations: names and objects mixed
# ---------------------------------------------------------------------------
def test_names_and_objects_mix_per_layer():
    X, y = _data()
    softsign = SoftSign()
    reg = _regressor(
        hidden_layer_sizes=(8, 6, 5), activation=["tanh", softsign, "relu"]
    ).fit(X, y)
    hidden = reg._activations()[:-1]
    assert [type(a).__name__ for a in hidden] == ["Tanh", "SoftSign", "ReLU"]
    assert hidden[1] is softsign
    assert reg.score(X, y) > 0.9

    clf = BPClassifier(
        hidden_layer_sizes=(6, 5),
        activation=(ScaledTanh(), "logistic"),
        solver="lbfgs",
        max_iter=200,
        random_state=0,
    ).fit(X, y > 0)
    assert clf.score(X, y > 0) > 0.8


def test_a_wrong_object_is_named_with_its_layer():
    X, y = _data()
    reg = _regressor(hidden_layer_sizes=(8, 6), activation=["tanh", WrongSoftSign()])
    with pytest.raises(ValueError, match=r"WrongSoftSign\(\) \(hidden layer 2\)"):
        reg.fit(X, y)


@pytest.mark.parametrize(
    "activation, error, match",
    [
        (["tanh", 3], TypeError, r"names or skbp.core.Activation objects; got 3"),
        (["tanh", Softmax()], ValueError, r"Softmax\(\) .* is an output activation"),
        (Softmax(), ValueError, r"Softmax\(\) .* is an output activation"),
        (["tanh", "softmax"], ValueError, "Unknown hidden activation 'softmax'"),
        (["tanh"], ValueError, "activation has 1 entries but the network has 2"),
    ],
)
def test_what_activation_refuses(activation, error, match):
    X, y = _data()
    with pytest.raises(error, match=match):
        _regressor(hidden_layer_sizes=(4, 3), activation=activation).fit(X, y)


def test_a_loss_the_regressor_does_not_offer_is_refused():
    X, y = _data()
    with pytest.raises(ValueError, match=r"BinaryLogLoss\(\) is not a regression"):
        _regressor(loss=BinaryLogLoss()).fit(X, y)
    with pytest.raises(ValueError, match="loss"):  # the constraints' refusal
        _regressor(loss=Tanh()).fit(X, y)


def test_an_unhashable_object_works_uncached():
    X, y = _data()
    reg = _regressor(activation=UnhashableSoftSign()).fit(X, y)
    assert reg.score(X, y) > 0.98


# ---------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------
def test_a_wrong_derivative_is_refused_before_training(monkeypatch):
    X, y = _data()
    steps = []
    monkeypatch.setattr(skbp._estimators.base, "run_lbfgs", lambda *a: steps.append(a))
    reg = _regressor(activation=WrongSoftSign())
    with pytest.raises(ValueError) as info:
        reg.fit(X, y)
    message = str(info.value)
    assert "WrongSoftSign() (hidden layer 1)" in message
    assert "relative error of 0." in message  # shown
    assert "Check derivative()" in message
    assert "check_gradients=False" in message
    assert not steps  # no training step
    assert not hasattr(reg, "coefs_")  # the failed fit left nothing behind


def test_a_wrong_loss_gradient_is_refused():
    X, y = _data()
    with pytest.raises(ValueError) as info:
        _regressor(loss=WrongLogCosh()).fit(X, y)
    message = str(info.value)
    assert "loss=WrongLogCosh()" in message
    assert "per_sample_gradient()" in message
    assert "relative error of" in message


def test_an_error_in_the_users_code_says_where_the_check_met_it():
    X, y = _data()
    with pytest.raises(NotImplementedError) as info:
        _regressor(activation=NoDerivative()).fit(X, y)
    (note,) = info.value.__notes__
    assert "check_gradients checked NoDerivative(), the hidden layer 1" in note


def test_check_gradients_false_skips_the_check():
    X, y = _data()
    reg = _regressor(activation=WrongSoftSign(), check_gradients=False, max_iter=5)
    reg.fit(X, y)  # trains on the wrong math, as asked
    assert reg.n_iter_ > 0
    _regressor(loss=WrongLogCosh(), check_gradients=False, max_iter=5).fit(X, y)


def test_builtin_objects_are_not_checked(monkeypatch):
    calls = []
    monkeypatch.setattr(_user_math, "check", lambda *a: calls.append(a))
    X, y = _data()
    _regressor(activation=Tanh(), loss=HuberLoss(delta=2.0), max_iter=5).fit(X, y)
    _regressor(activation=[ELU(0.5)], max_iter=5).fit(X, y)
    assert calls == []
    _regressor(activation=SoftSign(), max_iter=5).fit(X, y)
    (checked,) = [call[0] for call in calls]
    assert [(kind, layer) for kind, layer, _ in checked] == [("activation", 0)]


def test_the_check_runs_once_per_fit_never_per_batch(monkeypatch):
    starts = []  # the weights each check ran at
    check = _user_math.check

    def counted(checked, coefs, *args):
        starts.append([np.array(W) for W in coefs])
        return check(checked, coefs, *args)

    monkeypatch.setattr(_user_math, "check", counted)
    X, y = _data()
    reg = _regressor(activation=SoftSign(), loss=LogCosh(), solver="sgd")
    reg.set_params(batch_size=10, max_iter=3).fit(X, y)  # 3 epochs of 12 batches
    assert len(starts) == 1
    fitted = [W.copy() for W in reg.coefs_]
    reg.set_params(warm_start=True).fit(X, y)  # a warm start: checked again,
    assert len(starts) == 2
    for W, W_start in zip(fitted, starts[1]):  # at the warm weights
        np.testing.assert_array_equal(W, W_start)
    reg = clone(reg).set_params(warm_start=False)
    for _ in range(3):
        reg.partial_fit(X, y)  # the first one only
    assert len(starts) == 3


def test_the_check_leaves_the_fit_as_it_was():
    # The check draws nothing from random_state: shuffling, the weights and
    # dropout masks are the same with and without it.
    X, y = _data()
    params = {
        "activation": SoftSign(),
        "loss": LogCosh(),
        "solver": "sgd",
        "max_iter": 5,
        "dropout": 0.2,
        "early_stopping": True,
    }
    checked = _regressor(**params).fit(X, y)
    unchecked = _regressor(check_gradients=False, **params).fit(X, y)
    assert _same_weights(checked, unchecked)
    assert checked.loss_curve_ == unchecked.loss_curve_


def test_the_check_runs_on_dask_chunks():
    da = pytest.importorskip("dask.array")
    X, y = _data()
    Xd, yd = da.from_array(X, chunks=50), da.from_array(y, chunks=50)
    reg = _regressor(activation=SoftSign(), loss=LogCosh(), max_iter=50).fit(Xd, yd)
    assert np.isfinite(reg.loss_)
    with pytest.raises(ValueError, match="WrongSoftSign"):
        _regressor(activation=WrongSoftSign()).fit(Xd, yd)


def test_the_check_runs_on_any_array_library():
    strict = pytest.importorskip("array_api_strict")
    pytest.importorskip("array_api_compat")
    import sklearn

    X, y = _data()
    with sklearn.config_context(array_api_dispatch=True):
        Xs, ys = strict.asarray(X), strict.asarray(y)
        reg = _regressor(activation=SoftSign(), loss=LogCosh(), max_iter=30)
        reg.fit(Xs, ys)
        assert type(reg.coefs_[0]) is type(Xs)
        with pytest.raises(ValueError, match="WrongSoftSign"):
            _regressor(activation=WrongSoftSign()).fit(Xs, ys)


# ---------------------------------------------------------------------------
# scikit-learn's machinery and persistence
# ---------------------------------------------------------------------------
def test_clone_get_params_and_set_params():
    softsign = SoftSign()
    reg = BPRegressor(activation=[softsign, "tanh"], loss=LogCosh())
    params = reg.get_params()
    assert params["activation"][0] is softsign
    assert params["loss"] == LogCosh()
    cloned = clone(reg)
    assert cloned.get_params()["activation"] == [SoftSign(), "tanh"]
    assert cloned.set_params(activation=ScaledTanh(a=2.0)).activation == ScaledTanh(
        a=2.0
    )
    assert ScaledTanh(a=2.0) != ScaledTanh()  # constants tell objects apart
    assert "ScaledTanh(a=2.0, b=0.6666666666666666)" in repr(cloned)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_over_objects(n_jobs):
    X, y = _data()
    search = GridSearchCV(
        _regressor(max_iter=100),
        {"activation": [SoftSign(), "tanh", ScaledTanh()], "loss": [LogCosh()]},
        cv=2,
        n_jobs=n_jobs,
    ).fit(X, y)
    assert search.best_params_["loss"] == LogCosh()
    assert len(search.cv_results_["params"]) == 3
    assert search.best_estimator_.score(X, y) > 0.9


def test_grid_search_refuses_a_wrong_object_clearly():
    X, y = _data()
    search = GridSearchCV(
        _regressor(max_iter=20), {"activation": [WrongSoftSign()]}, cv=2
    )
    search.set_params(error_score="raise")
    with pytest.raises(ValueError, match="WrongSoftSign"):
        search.fit(X, y)


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_pickle_and_joblib_round_trips(dump):
    X, y = _data()
    reg = _regressor(activation=[SoftSign()], loss=LogCosh()).fit(X, y)
    if dump == "pickle":
        again = pickle.loads(pickle.dumps(reg))
    else:
        buffer = io.BytesIO()
        joblib.dump(reg, buffer)
        buffer.seek(0)
        again = joblib.load(buffer)
    assert again.activation == [SoftSign()] and again.loss == LogCosh()
    np.testing.assert_array_equal(again.predict(X), reg.predict(X))
    again.set_params(warm_start=True, max_iter=5).fit(X, y)  # trains on


def test_skops_round_trip_trusting_the_classes():
    sio = pytest.importorskip("skops.io")
    X, y = _data()
    reg = _regressor(activation=SoftSign(), loss=LogCosh()).fit(X, y)
    data = sio.dumps(reg)
    untrusted = sio.get_untrusted_types(data=data)
    assert f"{__name__}.SoftSign" in untrusted  # skops asks before loading code
    again = sio.loads(data, trusted=untrusted)
    np.testing.assert_array_equal(again.predict(X), reg.predict(X))


def test_the_html_repr_shows_the_objects():
    reg = _regressor(activation=[ScaledTanh(a=2.0)], loss=LogCosh())
    html = reg._repr_html_()
    assert "ScaledTanh(a=2.0" in html and "LogCosh()" in html


@pytest.mark.parametrize(
    "params, name",
    [
        ({"activation": SoftSign()}, "activation"),
        ({"activation": ["tanh", Tanh()]}, "activation"),
        ({"loss": LogCosh()}, "loss"),
        ({"loss": HuberLoss(delta=2.0)}, "loss"),
    ],
)
def test_skbp_save_stores_no_code(params, name, tmp_path):
    X, y = _data()
    reg = _regressor(hidden_layer_sizes=(3, 2), max_iter=5, **params).fit(X, y)
    with pytest.raises(TypeError) as info:
        skbp.save(reg, tmp_path / "model.skbp")
    message = str(info.value)
    assert f"parameter {name}=" in message
    assert "stores no code" in message
    assert "pickle" in message and "skops" in message
    assert not (tmp_path / "model.skbp").exists()


def test_onnx_export_refuses_a_users_activation():
    if importlib.util.find_spec("skl2onnx") is None:
        pytest.skip("the ONNX export needs skl2onnx (the onnx extra)")
    from skbp.onnx import to_onnx

    X, y = _data()
    X = X.astype(np.float32)
    reg = _regressor(activation=["tanh", SoftSign()], hidden_layer_sizes=(4, 3))
    reg.set_params(max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match=r"SoftSign\(\) of the hidden layer 2.*own"):
        to_onnx(reg, X[:1])
    shifted = _regressor(loss=ShiftedSquaredError(), max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match=r"ShiftedOutput\(\) of the output layer"):
        to_onnx(shifted, X[:1])


def test_onnx_export_of_builtin_objects_keeps_their_constants():
    if importlib.util.find_spec("onnxruntime") is None:
        pytest.skip("the ONNX export needs skl2onnx and onnxruntime (onnx extra)")
    import onnxruntime

    from skbp.onnx import to_onnx

    X, y = _data()
    X = X.astype(np.float32)
    for activation in [LeakyReLU(0.3), [ELU(alpha=2.0)]]:
        reg = _regressor(activation=activation, max_iter=20).fit(X, y)
        session = onnxruntime.InferenceSession(to_onnx(reg, X[:1]).SerializeToString())
        (got,) = session.run(None, {"X": X})
        np.testing.assert_allclose(got[:, 0], reg.predict(X), rtol=1e-4, atol=1e-5)
    # A user's loss with a built-in output activation predicts as the graph.
    reg = _regressor(loss=LogCosh(), max_iter=20).fit(X, y)
    session = onnxruntime.InferenceSession(to_onnx(reg, X[:1]).SerializeToString())
    np.testing.assert_allclose(
        session.run(None, {"X": X})[0][:, 0], reg.predict(X), rtol=1e-4, atol=1e-5
    )


def test_a_poisson_loss_object_refuses_negative_targets_as_the_name_does():
    from skbp.core import PoissonLoss

    X = np.random.RandomState(0).normal(size=(20, 2))
    y = X[:, 0]  # negative values
    for loss in ("poisson", PoissonLoss()):
        with pytest.raises(ValueError, match="non-negative targets"):
            BPRegressor(loss=loss, max_iter=2).fit(X, y)
