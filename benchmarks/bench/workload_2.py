"""Workload 2: the seed's ``[1, 25, 1]`` network, full-batch gradient descent.

The curve of ``python -m skbp``, logistic hidden units, plain SGD over the
whole batch, against scikit-learn and against the same math written as a
flat numpy loop.
"""

import statistics

import numpy as np
from sklearn.neural_network import MLPRegressor

from skbp import BPRegressor

from .measure import interleaved
from .report import Row, timed_row


def w2_data():
    """The seed's curve (as in ``python -m skbp``): y = 20 sin(2 pi x)."""
    x = np.arange(0.0, 1.0, 0.01).reshape(-1, 1)
    return x, 20 * np.sin(2 * np.pi * x).ravel()


def w2_params(iterations, n_samples):
    """Parameters of full-batch gradient descent, ``iterations`` steps."""
    return {
        "hidden_layer_sizes": (25,),
        "activation": "logistic",
        "solver": "sgd",
        "learning_rate": "constant",
        "learning_rate_init": 0.3,
        "momentum": 0.0,
        "batch_size": n_samples,
        "alpha": 0.0,
        "max_iter": iterations,
        "tol": 0.0,
        "n_iter_no_change": 10**9,
        "shuffle": False,
        "random_state": 0,
    }


def bare_gradient_descent(x, y, iterations, hidden=25, lr=0.3):
    """The same full-batch gradient descent written as a flat numpy loop.

    No validation, no objects: every product with ``np.dot`` into a
    preallocated array, every elementwise step in place, the loss value
    computed as skbp records it. The floor of a direct numpy implementation
    (about 25 small numpy calls per iteration).

    Parameters
    ----------
    x : ndarray of shape (n_samples, 1)
    y : ndarray of shape (n_samples,)
    iterations : int
    hidden : int, default=25
    lr : float, default=0.3

    Returns
    -------
    run : callable
        Takes no arguments.
    """
    rng = np.random.default_rng(0)
    Y = y.reshape(-1, 1)
    m = x.shape[0]
    bound = np.sqrt(2 / (1 + hidden))
    W1 = rng.uniform(-bound, bound, (1, hidden))
    b1 = rng.uniform(-bound, bound, hidden)
    W2 = rng.uniform(-bound, bound, (hidden, 1))
    b2 = rng.uniform(-bound, bound, 1)
    A1, Z2, dZ2, dA1 = (np.empty(s) for s in ((m, hidden), (m, 1), (m, 1), (m, hidden)))
    grads = [np.empty_like(p) for p in (W1, b1, W2, b2)]
    gW1, gb1, gW2, gb2 = grads
    params = (W1, b1, W2, b2)
    ones = np.ones(m)

    def run():
        for _ in range(iterations):
            # forward: A1 = 1 / (1 + exp(-(x W1 + b1))), Z2 = A1 W2 + b2
            np.dot(x, W1, out=A1)
            np.add(A1, b1, out=A1)
            np.negative(A1, out=A1)
            np.exp(A1, out=A1)
            np.add(A1, 1.0, out=A1)
            np.divide(1.0, A1, out=A1)
            np.dot(A1, W2, out=Z2)
            np.add(Z2, b2, out=Z2)
            # loss and output gradient
            np.subtract(Z2, Y, out=dZ2)
            0.5 * float(np.dot(dZ2.ravel(), dZ2.ravel())) / m
            np.multiply(dZ2, 1.0 / m, out=dZ2)
            # backward
            np.dot(A1.T, dZ2, out=gW2)
            np.dot(ones, dZ2, out=gb2)
            np.dot(dZ2, W2.T, out=dA1)
            np.multiply(dA1, A1, out=dA1)
            np.multiply(dA1, 1.0 - A1, out=dA1)
            np.dot(x.T, dA1, out=gW1)
            np.dot(ones, dA1, out=gb1)
            for param, grad in zip(params, grads):
                grad *= lr
                param -= grad

    return run


def workload_2(sizes, rows):
    """Time the fits; append a time row and a final-loss row.

    Parameters
    ----------
    sizes : dict
        See :mod:`bench.sizes` (``w2_`` keys).
    rows : list of Row
        Appended to.
    """
    x, y = w2_data()
    iterations = sizes["w2_iterations"]
    params = w2_params(iterations, len(x))
    fitted = {}

    def fit(cls, name):
        fitted[name] = cls(**params).fit(x, y)

    times = interleaved(
        {
            "skbp": lambda: fit(BPRegressor, "skbp"),
            "sklearn": lambda: fit(MLPRegressor, "sklearn"),
            "bare": bare_gradient_descent(x, y, iterations),
        },
        sizes["w2_repeats"],
        warmup=True,
    )
    per_iter = {k: statistics.median(v) / iterations for k, v in times.items()}
    rows.append(
        timed_row(
            2,
            f"fit [1,25,1] sine, {iterations} full-batch GD steps",
            times,
            sklearn_goal=(0.4, None),
            note="per iteration: "
            + ", ".join(f"{k} {v * 1e6:.1f} us" for k, v in per_iter.items())
            + "; bare = flat numpy loop of the same math",
        )
    )
    rows.append(
        Row(
            2,
            "final training loss",
            "",
            fitted["skbp"].loss_curve_[-1],
            fitted["sklearn"].loss_curve_[-1],
            note=f"R^2 skbp {fitted['skbp'].score(x, y):.4f}, "
            f"sklearn {fitted['sklearn'].score(x, y):.4f}",
        )
    )
