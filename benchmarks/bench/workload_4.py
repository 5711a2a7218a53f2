"""Workload 4: L-BFGS regression, ``make_regression`` 20,000 x 50, hidden (100,)."""

from sklearn.datasets import make_regression
from sklearn.neural_network import MLPRegressor

from skbp import BPRegressor

from .measure import interleaved
from .report import timed_row


def w4_data(n_samples):
    """``make_regression`` with 50 features, the target standardized."""
    X, y = make_regression(
        n_samples=n_samples,
        n_features=50,
        n_informative=30,
        noise=10.0,
        random_state=0,
    )
    return X, (y - y.mean()) / y.std()


def w4_params(max_iter):
    """L-BFGS parameters (the same for skbp and scikit-learn)."""
    return {
        "hidden_layer_sizes": (100,),
        "solver": "lbfgs",
        "max_iter": max_iter,
        "random_state": 0,
    }


def workload_4(sizes, rows):
    """Time the fits against scikit-learn; append one row.

    Parameters
    ----------
    sizes : dict
        See :mod:`bench.sizes` (``w4_`` keys).
    rows : list of Row
        Appended to.
    """
    X, y = w4_data(sizes["w4_samples"])
    params = w4_params(sizes["w4_max_iter"])
    fitted = {}

    def fit(cls, name):
        fitted[name] = cls(**params).fit(X, y)

    times = interleaved(
        {
            "skbp": lambda: fit(BPRegressor, "skbp"),
            "sklearn": lambda: fit(MLPRegressor, "sklearn"),
        },
        sizes["w4_repeats"],
    )
    skbp_est, sk_est = fitted["skbp"], fitted["sklearn"]
    rows.append(
        timed_row(
            4,
            f"fit L-BFGS {len(X)}x50, (100,), max_iter {params['max_iter']}",
            times,
            sklearn_goal=(1.0, None),
            note=f"n_iter_ skbp {skbp_est.n_iter_}, sklearn {sk_est.n_iter_}; "
            f"final loss skbp {skbp_est.loss_:.5f}, sklearn {sk_est.loss_:.5f}",
        )
    )
