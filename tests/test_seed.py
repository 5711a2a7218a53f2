"""The seed tutorials' two experiments, reproduced with the estimators.

Seed 000/001: a ``[1, 25, 1]`` network (logistic hidden layer, identity
output) trained by full-batch gradient descent (learning rate 0.3, 4000
iterations) on ``y = 20 sin(2 pi x)``, ``x = 0.00, 0.01, ..., 0.99``; the
targets are not rescaled. Seed 004: a fully connected layer trained by SGD
on batches of 2 recovers a known linear map.

The seed's loops are written out here (columns are samples, as in the seed)
as the reference skbp must match or beat.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skbp import BPRegressor
from skbp.demo import seed_sine_setup

SEED_LR = 0.3
SEED_ITERATIONS = 4000
SEED_LAYERS = [1, 25, 1]


# ---------------------------------------------------------------------------
# Seed 000: the sine fit
# ---------------------------------------------------------------------------
def load_data():
    """The seed's data: 100 points, x = 0.00 .. 0.99, y = 20 sin(2 pi x)."""
    x = np.arange(0.0, 1.0, 0.01)
    y = 20 * np.sin(2 * np.pi * x)
    return x, y


def init_parameters(layers_dim, rng):
    """The seed's initialisation: ``np.random.random`` weights, zero biases.

    ``rng.random_sample`` is ``np.random.random`` on a private stream, so the
    test does not touch numpy's global random state.
    """
    parameters = {}
    for i in range(1, len(layers_dim)):
        parameters["w" + str(i)] = rng.random_sample([layers_dim[i], layers_dim[i - 1]])
        parameters["b" + str(i)] = np.zeros((layers_dim[i], 1))
    return parameters


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def forward(x, parameters):
    """The seed's forward pass (each hidden layer fed by the previous one).

    The seed feeds the raw ``x`` to every hidden layer; with its single hidden
    layer that is the same thing.
    """
    layers = len(parameters) // 2
    a, z = [x], [x]
    for i in range(1, layers):
        z_temp = parameters["w" + str(i)].dot(a[i - 1]) + parameters["b" + str(i)]
        z.append(z_temp)
        a.append(sigmoid(z_temp))
    z_temp = parameters["w" + str(layers)].dot(a[layers - 1])
    z_temp = z_temp + parameters["b" + str(layers)]
    z.append(z_temp)
    a.append(z_temp)
    return {"z": z, "a": a}, a[layers]


def backward(parameters, caches, al, y):
    layers = len(parameters) // 2
    grades = {}
    m = y.shape[1]
    grades["dz" + str(layers)] = al - y
    grades["dw" + str(layers)] = (
        grades["dz" + str(layers)].dot(caches["a"][layers - 1].T) / m
    )
    grades["db" + str(layers)] = (
        np.sum(grades["dz" + str(layers)], axis=1, keepdims=True) / m
    )
    for i in reversed(range(1, layers)):
        grades["dz" + str(i)] = parameters["w" + str(i + 1)].T.dot(
            grades["dz" + str(i + 1)]
        ) * sigmoid_prime(caches["z"][i])
        grades["dw" + str(i)] = grades["dz" + str(i)].dot(caches["a"][i - 1].T) / m
        grades["db" + str(i)] = np.sum(grades["dz" + str(i)], axis=1, keepdims=True) / m
    return grades


def update_grades(parameters, grades, learning_rate):
    for i in range(1, len(parameters) // 2 + 1):
        parameters["w" + str(i)] -= learning_rate * grades["dw" + str(i)]
        parameters["b" + str(i)] -= learning_rate * grades["db" + str(i)]
    return parameters


def compute_loss(al, y):
    return np.mean(np.square(al - y))


def seed_loop(parameters, n_iterations=SEED_ITERATIONS, learning_rate=SEED_LR):
    """The seed's training loop; returns the parameters and the final MSE."""
    x, y = load_data()
    x, y = x.reshape(1, 100), y.reshape(1, 100)
    for _ in range(n_iterations):
        caches, al = forward(x, parameters)
        grades = backward(parameters, caches, al, y)
        parameters = update_grades(parameters, grades, learning_rate)
    _, al = forward(x, parameters)
    return parameters, compute_loss(al, y)


def seed_regressor(**params):
    """BPRegressor set up as the seed's loop (as skbp.demo.seed_sine_setup)."""
    defaults = dict(
        hidden_layer_sizes=(25,),
        activation="logistic",
        solver="sgd",
        learning_rate_init=SEED_LR,
        momentum=0.0,
        batch_size=100,  # full batch
        alpha=0.0,
        max_iter=SEED_ITERATIONS,
        tol=0.0,
        n_iter_no_change=SEED_ITERATIONS,
        shuffle=False,
    )
    return BPRegressor(**{**defaults, **params})


def skbp_data():
    """The seed's data with rows as samples."""
    x, y = load_data()
    return x.reshape(-1, 1), y


def _fit(reg, X, y):
    with warnings.catch_warnings():
        # A fixed number of iterations is the seed's protocol, not a failure.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return reg.fit(X, y)


def test_seed_data_convention():
    X, y = skbp_data()
    assert X.shape == (100, 1) and y.shape == (100,)
    np.testing.assert_allclose(X[[0, -1], 0], [0.0, 0.99])
    np.testing.assert_allclose(np.abs(y).max(), 20.0, rtol=1e-3)  # not rescaled


def test_sine_fit_at_least_as_good_as_the_seed_loop():
    X, y = skbp_data()
    seed_mse = [
        seed_loop(init_parameters(SEED_LAYERS, np.random.RandomState(seed)))[1]
        for seed in range(5)
    ]
    skbp_mse, scores = [], []
    for random_state in range(5):
        reg = _fit(seed_regressor(random_state=random_state), X, y)
        assert reg.n_iter_ == SEED_ITERATIONS
        assert reg.t_ == SEED_ITERATIONS * len(X)
        y_pred = reg.predict(X)
        skbp_mse.append(np.mean((y_pred - y) ** 2))
        scores.append(reg.score(X, y))
        # loss_ is half the mean squared error of the last epoch's weights,
        # a step behind the final ones; it must be of the same order.
        assert reg.loss_curve_[-1] < reg.loss_curve_[0]

    assert np.all(np.isfinite(seed_mse)) and np.all(np.isfinite(skbp_mse))
    assert np.median(skbp_mse) <= np.median(seed_mse), (skbp_mse, seed_mse)
    # Both fit the curve, whose variance is 200: R^2 well above 0.99.
    assert np.median(seed_mse) < 2.0
    assert min(scores) > 0.99


def test_same_start_same_trajectory_as_the_seed_loop():
    """From the seed's own initial weights skbp takes the seed's steps."""
    X, y = skbp_data()
    # Round-off differences grow with the iterations (about 1e-12 after 100,
    # 1e-5 after 300: the early phase at lr 0.3 is unstable), so compare early.
    n_iterations = 100
    start = init_parameters(SEED_LAYERS, np.random.RandomState(0))
    expected, expected_mse = seed_loop(
        {k: v.copy() for k, v in start.items()}, n_iterations
    )

    # A one-iteration fit builds the network; then the seed's weights
    # (transposed: rows are samples in skbp) replace the drawn ones and a
    # warm start continues from them.
    reg = _fit(seed_regressor(max_iter=1, random_state=0), X, y)
    reg.coefs_ = [start["w1"].T.copy(), start["w2"].T.copy()]
    reg.intercepts_ = [start["b1"].ravel().copy(), start["b2"].ravel().copy()]
    reg.set_params(warm_start=True, max_iter=n_iterations)
    _fit(reg, X, y)

    assert reg.n_iter_ == n_iterations
    np.testing.assert_allclose(reg.coefs_[0], expected["w1"].T, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(reg.coefs_[1], expected["w2"].T, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        reg.intercepts_[0], expected["b1"].ravel(), rtol=1e-9, atol=1e-9
    )
    np.testing.assert_allclose(
        reg.intercepts_[1], expected["b2"].ravel(), rtol=1e-9, atol=1e-9
    )
    mse = np.mean((reg.predict(X) - y) ** 2)
    np.testing.assert_allclose(mse, expected_mse, rtol=1e-9)
    # skbp's loss is the half MSE; the seed prints the MSE.
    _, al = forward(X.T, start)
    np.testing.assert_allclose(reg.loss_curve_[1], compute_loss(al, y) / 2, rtol=1e-12)


def test_shared_demo_setup_is_the_seed_loop():
    """``python -m skbp`` and examples/plot_sine_fit.py fit this very setup."""
    x, y, reg = seed_sine_setup()
    X_ref, y_ref = skbp_data()
    np.testing.assert_array_equal(x, X_ref)
    np.testing.assert_array_equal(y, y_ref)
    assert reg.get_params() == seed_regressor(random_state=0).get_params()
    assert not hasattr(reg, "coefs_")  # not fitted yet
    assert seed_sine_setup()[2] is not reg  # a fresh estimator each call


# ---------------------------------------------------------------------------
# Seed 004: recovering a linear map with a layer trained by SGD
# ---------------------------------------------------------------------------
W_TRUE = np.array([[3, 7, 4], [5, 2, 6]])
B_TRUE = np.array([2, 9, 3])


def linear_data(seed=0):
    """500 integer samples, as in the seed (and examples/plot_linear_map.py)."""
    rng = np.random.RandomState(seed)
    X = rng.randint(0, 10, size=(500, 2)).astype(float)
    return X, X @ W_TRUE + B_TRUE


def linear_regressor(**params):
    """As examples/plot_linear_map.py: no hidden layer, SGD on batches of 2."""
    defaults = dict(
        hidden_layer_sizes=(),
        solver="sgd",
        batch_size=2,
        learning_rate_init=0.01,
        momentum=0.0,
        alpha=0.0,
        max_iter=100,
        tol=0.0,
        n_iter_no_change=100,
        random_state=0,
    )
    return BPRegressor(**{**defaults, **params})


def test_linear_map_recovered():
    X, Y = linear_data()
    reg = _fit(linear_regressor(), X, Y)

    assert reg.n_layers_ == 2
    assert len(reg.coefs_) == 1 and reg.coefs_[0].shape == (2, 3)
    assert reg.out_activation_ == "identity"
    assert np.allclose(reg.coefs_[0], W_TRUE)
    assert np.allclose(reg.intercepts_[0], B_TRUE)
    np.testing.assert_allclose(reg.predict(X), Y, rtol=1e-9)
    assert reg.loss_curve_[-1] < 1e-12


def fc_forward(z, W, b):
    """Seed 004's fully connected layer."""
    return np.dot(z, W) + b


def fc_backward(next_dz, W, z):
    """Seed 004's backward pass (returns the batch-averaged gradients)."""
    N = z.shape[0]
    dz = np.dot(next_dz, W.T)
    dw = np.dot(z.T, next_dz)
    db = np.sum(next_dz, axis=0)
    return dw / N, db / N, dz


def test_linear_layer_steps_match_seed_update():
    """One unshuffled epoch = the seed's update on consecutive batches of 2."""
    X, Y = linear_data()
    rng = np.random.RandomState(1)
    W1, b1 = rng.randn(2, 3), np.zeros(3)

    reg = _fit(linear_regressor(max_iter=1, shuffle=False), X, Y)
    reg.coefs_, reg.intercepts_ = [W1.copy()], [b1.copy()]
    reg.set_params(warm_start=True)
    _fit(reg, X, Y)

    for start in range(0, 500, 2):
        x, y_true = X[start : start + 2], Y[start : start + 2]
        dy = fc_forward(x, W1, b1) - y_true
        # The seed passes the true W here; only the unused dz depends on it.
        dw, db, _ = fc_backward(dy, W1, x)
        W1 -= 0.01 * dw
        b1 -= 0.01 * db
    np.testing.assert_allclose(reg.coefs_[0], W1, rtol=1e-10)
    np.testing.assert_allclose(reg.intercepts_[0], b1, rtol=1e-10)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_linear_map_recovered_by_other_solvers(solver):
    X, Y = linear_data(seed=1)
    params = dict(solver=solver, batch_size="auto", max_iter=2000, tol=1e-12)
    if solver == "adam":
        params.update(learning_rate_init=0.1, batch_size=50, max_iter=300)
    reg = _fit(linear_regressor(**params), X, Y)
    np.testing.assert_allclose(reg.coefs_[0], W_TRUE, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(reg.intercepts_[0], B_TRUE, rtol=1e-3, atol=1e-3)
