"""Workload 1: classification, adam, two hidden layers.

``make_classification`` 60,000 x 100 (10 classes), hidden ``(256, 128)``
relu, ``batch_size=256``, every epoch run; float32 and float64 separately,
against scikit-learn and against the bare matrix products of the fit.
Workloads 3 and 5 reuse its data, parameters and bare products.
"""

import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.utils import gen_batches

from skbp import BPClassifier

from .measure import interleaved
from .report import Row, fmt_list, timed_row

W1_HIDDEN = (256, 128)
W1_BATCH = 256


def w1_data(n_samples):
    """Standardized 80/20 stratified split of ``make_classification``.

    Parameters
    ----------
    n_samples : int
        Rows before the split.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray
    """
    X, y = make_classification(
        n_samples=n_samples,
        n_features=100,
        n_informative=50,
        n_redundant=10,
        n_classes=10,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def w1_params(epochs):
    """Estimator parameters (the same for skbp and scikit-learn), ``epochs`` run."""
    return {
        "hidden_layer_sizes": W1_HIDDEN,
        "activation": "relu",
        "solver": "adam",
        "batch_size": W1_BATCH,
        "max_iter": epochs,
        "tol": 0.0,
        "n_iter_no_change": 10**9,  # every epoch runs
        "random_state": 0,
    }


def bare_training_products(X, n_outputs, epochs, batch_size, hidden=W1_HIDDEN):
    """A callable running only the matrix products of ``epochs`` of training.

    Per batch: the forward products ``A_{l-1} @ W_l`` and the backward
    ``A_{l-1}.T @ dZ_l`` (every layer) and ``dZ_l @ W_l.T`` (layers > 1), on
    contiguous row slices of ``X``, into preallocated buffers, in the dtype
    of ``X``. The numbers are meaningless; the shapes and count are those of
    the fit.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_outputs : int
        Units of the output layer.
    epochs, batch_size : int
    hidden : tuple of int, default=W1_HIDDEN

    Returns
    -------
    run : callable
        Takes no arguments.
    """
    dtype = X.dtype
    rng = np.random.default_rng(0)
    units = [X.shape[1], *hidden, n_outputs]
    coefs = [
        (rng.standard_normal((a, b)) / np.sqrt(a)).astype(dtype)
        for a, b in zip(units[:-1], units[1:])
    ]
    outs = [np.empty((batch_size, n), dtype) for n in units[1:]]
    deltas = [np.empty((batch_size, n), dtype) for n in units[1:]]
    for d in deltas:
        d[...] = rng.standard_normal(d.shape) * 0.01
    grads = [np.empty_like(W) for W in coefs]
    Xc = np.ascontiguousarray(X)
    n_samples, n_layers = Xc.shape[0], len(coefs)

    def run():
        for _ in range(epochs):
            for batch in gen_batches(n_samples, batch_size):
                A = Xc[batch]
                m = A.shape[0]
                inputs = [A]
                for W, out in zip(coefs, outs):
                    A = np.matmul(A, W, out=out[:m])
                    inputs.append(A)
                for layer in range(n_layers - 1, -1, -1):
                    dZ = deltas[layer][:m]
                    np.matmul(inputs[layer].T, dZ, out=grads[layer])
                    if layer > 0:
                        np.matmul(dZ, coefs[layer].T, out=deltas[layer - 1][:m])

    return run


def workload_1(sizes, rows):
    """Time the fits in float32 and float64; append a time and an accuracy row each.

    Parameters
    ----------
    sizes : dict
        See :mod:`bench.sizes` (``w1_`` keys).
    rows : list of Row
        Appended to.
    """
    X_train, X_test, y_train, y_test = w1_data(sizes["w1_samples"])
    epochs, repeats = sizes["w1_epochs"], sizes["w1_repeats"]
    params = w1_params(epochs)
    n_classes = len(np.unique(y_train))
    for dtype in (np.float32, np.float64):
        Xtr, Xte = X_train.astype(dtype), X_test.astype(dtype)
        fitted = {}

        def fit(cls, name, Xtr=Xtr, fitted=fitted):
            fitted[name] = cls(**params).fit(Xtr, y_train)

        times = interleaved(
            {
                "skbp": lambda fit=fit: fit(BPClassifier, "skbp"),
                "sklearn": lambda fit=fit: fit(MLPClassifier, "sklearn"),
                "bare": bare_training_products(Xtr, n_classes, epochs, W1_BATCH),
            },
            repeats,
        )
        dtypes = {name: est.coefs_[0].dtype.name for name, est in fitted.items()}
        name = np.dtype(dtype).name
        rows.append(
            timed_row(
                1,
                f"fit {name}, {len(Xtr)}x100, {epochs} epochs",
                times,
                bare_goal=(1.3, 1.6),
                sklearn_goal=(0.5, None),
                note=f"weights computed in {dtypes['skbp']} (skbp), "
                f"{dtypes['sklearn']} (sklearn); "
                f"per-repeat skbp {fmt_list(times['skbp'])}, "
                f"sklearn {fmt_list(times['sklearn'])}, "
                f"bare {fmt_list(times['bare'])}",
            )
        )
        rows.append(
            Row(
                1,
                f"test accuracy {name}",
                "",
                fitted["skbp"].score(Xte, y_test),
                fitted["sklearn"].score(Xte, y_test),
            )
        )
