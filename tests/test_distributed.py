"""Hyperparameter search on a Dask cluster through joblib's Dask backend.

One ``LocalCluster`` of two worker processes (one thread each) serves the
whole module. Each test runs the same search twice, in this process with
``n_jobs=1`` and on the cluster, and asks for identical results: the same
scores, and weights equal bit for bit, so that the estimators survive the
trip to the workers and back.
"""

import copy
import os
import warnings

import joblib
import numpy as np
import pytest
from dask_clusters import local_cluster
from numpy.testing import assert_array_equal
from scipy.stats import loguniform
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import (
    GridSearchCV,
    RandomizedSearchCV,
    cross_validate,
)
from threadpoolctl import threadpool_limits

from skbp import BPClassifier, BPRegressor

distributed = pytest.importorskip("distributed")

# The searches stop at max_iter on purpose (fast); scikit-learn's warning
# about it is beside the point here.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def client():
    """A client of a 2-process, 1-thread-per-worker local cluster."""
    with local_cluster() as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Local fits with one BLAS thread, as Dask's nanny gives its workers.

    Some BLAS libraries round differently with more threads; bit-for-bit
    comparisons need the same count on both sides.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _pid_scorer():
    """A scorer that reports which process evaluated it (pickled by value)."""

    def pid(estimator, X, y):
        return float(os.getpid())

    return pid


def _worker_pids(client):
    return {float(pid) for pid in client.run(os.getpid).values()}


def _assert_same_network(a, b):
    assert len(a.coefs_) == len(b.coefs_)
    for W_a, W_b in zip(a.coefs_, b.coefs_):
        assert_array_equal(W_a, W_b)
    for b_a, b_b in zip(a.intercepts_, b.intercepts_):
        assert_array_equal(b_a, b_b)
    assert a.loss_curve_ == b.loss_curve_
    assert a.n_iter_ == b.n_iter_


def _assert_same_results(local, remote, skip=("pid",)):
    """cv_results_ equal key by key, timings and the process ids aside."""
    for key, value in local.items():
        if "time" in key or any(word in key for word in skip):
            continue
        if key == "params":
            assert remote[key] == value
        else:
            assert_array_equal(np.asarray(remote[key]), np.asarray(value), err_msg=key)


def test_grid_search_on_cluster_matches_sequential(client):
    X, y = make_classification(n_samples=300, n_features=8, random_state=0)
    clf = BPClassifier(
        solver="adam", learning_rate_init=0.01, max_iter=20, random_state=0
    )
    grid = {"hidden_layer_sizes": [(4,), (8,)], "alpha": [1e-4, 1e-1]}
    scoring = {"accuracy": "accuracy", "pid": _pid_scorer()}
    kwargs = dict(cv=3, scoring=scoring, refit="accuracy")
    local = GridSearchCV(clf, grid, n_jobs=1, **kwargs).fit(X, y)
    with joblib.parallel_backend("dask"):
        remote = GridSearchCV(clf, grid, n_jobs=-1, **kwargs).fit(X, y)

    pids = {
        remote.cv_results_[f"split{i}_test_pid"][j] for i in range(3) for j in range(4)
    }
    assert pids <= _worker_pids(client)  # every fit ran on a worker
    _assert_same_results(local.cv_results_, remote.cv_results_)
    assert remote.best_params_ == local.best_params_
    _assert_same_network(remote.best_estimator_, local.best_estimator_)


def test_randomized_search_on_cluster_matches_sequential(client):
    X, y = make_regression(n_samples=300, n_features=6, noise=1.0, random_state=0)
    y = y / y.std()
    reg = BPRegressor(
        hidden_layer_sizes=(8,), solver="adam", max_iter=20, random_state=0
    )
    distributions = {
        "alpha": loguniform(1e-5, 1e-1),
        "learning_rate_init": loguniform(1e-3, 1e-1),
    }
    kwargs = dict(n_iter=4, cv=3, random_state=0)
    local = RandomizedSearchCV(reg, distributions, n_jobs=1, **kwargs).fit(X, y)
    with joblib.parallel_backend("dask"):
        remote = RandomizedSearchCV(reg, distributions, n_jobs=-1, **kwargs).fit(X, y)
    _assert_same_results(local.cv_results_, remote.cv_results_)
    _assert_same_network(remote.best_estimator_, local.best_estimator_)


def test_cross_validate_returns_estimators_intact(client):
    X, y = make_classification(
        n_samples=400, n_features=10, n_classes=3, n_informative=5, random_state=0
    )
    clf = BPClassifier(
        hidden_layer_sizes=(12,),
        solver="sgd",
        momentum=0.9,
        max_iter=15,
        random_state=0,
    )
    scoring = {"accuracy": "accuracy", "pid": _pid_scorer()}
    kwargs = dict(cv=4, scoring=scoring, return_estimator=True)
    local = cross_validate(clf, X, y, n_jobs=1, **kwargs)
    with joblib.parallel_backend("dask"):
        remote = cross_validate(clf, X, y, n_jobs=-1, **kwargs)

    assert set(remote["test_pid"]) <= _worker_pids(client)
    assert float(os.getpid()) not in set(remote["test_pid"])
    assert_array_equal(remote["test_accuracy"], local["test_accuracy"])
    for fitted_remote, fitted_local in zip(remote["estimator"], local["estimator"]):
        _assert_same_network(fitted_remote, fitted_local)
        assert_array_equal(fitted_remote.classes_, fitted_local.classes_)
        assert_array_equal(
            fitted_remote.predict_proba(X), fitted_local.predict_proba(X)
        )


def test_fitted_estimator_goes_to_a_worker_and_back(client):
    """A trained network, optimizer state included, continues on a worker."""
    X, y = make_classification(n_samples=300, n_features=8, random_state=1)
    clf = BPClassifier(
        hidden_layer_sizes=(6,), solver="adam", max_iter=5, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)

    def more_training(estimator, X, y):
        for _ in range(3):
            estimator.partial_fit(X, y)
        return estimator, estimator.predict_proba(X)

    future = client.submit(more_training, clf, X, y, pure=False)
    remote, remote_proba = future.result()
    local, local_proba = more_training(copy.deepcopy(clf), X, y)
    _assert_same_network(remote, local)
    assert remote.t_ == local.t_
    assert_array_equal(remote_proba, local_proba)


def test_dask_ml_incremental_wraps_skbp(client):
    """dask-ml's Incremental: one partial_fit per block, on the cluster."""
    da = pytest.importorskip("dask.array")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = make_classification(n_samples=1200, n_features=8, random_state=0)
    X_dask = da.from_array(X, chunks=(300, -1))
    y_dask = da.from_array(y, chunks=300)
    params = dict(hidden_layer_sizes=(8,), solver="adam", random_state=0)
    incremental = wrappers.Incremental(
        BPClassifier(**params), scoring="accuracy", shuffle_blocks=False
    )
    incremental.fit(X_dask, y_dask, classes=[0, 1])

    by_hand = BPClassifier(**params)
    for start in range(0, 1200, 300):
        by_hand.partial_fit(
            X[start : start + 300], y[start : start + 300], classes=[0, 1]
        )
    _assert_same_network(incremental.estimator_, by_hand)
    assert incremental.score(X_dask, y_dask) == by_hand.score(X, y)
    assert_array_equal(incremental.predict(X_dask).compute(), by_hand.predict(X))
