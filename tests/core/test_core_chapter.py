"""The derivations docs/backprop.rst spells out, checked numerically (issue 18).

Each test names the chapter's claim it checks. Finite differences are
central, in float64, written here independently of skbp.core.
"""

import importlib
import inspect
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import skbp.core
from skbp.core import (
    SGD,
    AbsoluteError,
    HuberLoss,
    Loss,
    backprop,
    get_activation,
    get_loss,
    gradient_check,
    initialize_parameters,
    minimize_lbfgs,
)

CHAPTER = Path(__file__).resolve().parents[2] / "docs" / "backprop.rst"
# The module, not the function skbp.core re-exports under the same name.
gradient_check_module = importlib.import_module("skbp.core.gradient_check")

#: The canonical losses and the G of the chapter: l = G(z) - y.z + h(y).
CANONICAL = {
    "squared_error": lambda z: 0.5 * np.sum(z * z),
    "binary_log_loss": lambda z: np.sum(np.logaddexp(0.0, z)),
    "multilabel_log_loss": lambda z: np.sum(np.logaddexp(0.0, z)),
    "log_loss": lambda z: np.logaddexp.reduce(z),
    "poisson": lambda z: np.sum(np.exp(z)),
}


def _targets(name, rng, m, k):
    if name == "log_loss":
        return np.eye(k)[rng.randint(k, size=m)]
    if name in ("binary_log_loss", "multilabel_log_loss"):
        return rng.randint(2, size=(m, k)).astype(float)
    if name == "poisson":
        return rng.poisson(1.5, size=(m, k)).astype(float)
    return rng.normal(size=(m, k))


def _row_gradient_fd(f, z, h=1e-6):
    """Central differences of the scalar f at the vector z."""
    grad = np.empty_like(z)
    for k in range(z.size):
        step = np.zeros_like(z)
        step[k] = h
        grad[k] = (f(z + step) - f(z - step)) / (2 * h)
    return grad


# ---------------------------------------------------------------------------
# Why dZ = A - Y
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CANONICAL))
def test_canonical_link_gradient_is_output_minus_target(name):
    # d l / d z by finite differences of the loss itself equals g(z) - y.
    rng = np.random.RandomState(0)
    k = 1 if name == "binary_log_loss" else 3
    Y = _targets(name, rng, 5, k)
    Z = rng.normal(scale=1.5, size=Y.shape)
    loss = get_loss(name)
    g = loss.output_activation
    A = g.forward(Z.copy())
    for i in range(len(Y)):
        y = Y[i : i + 1]

        def row_loss(z, y=y):
            z = z[np.newaxis]
            return float(loss.per_sample(y, z, g.forward(z.copy()))[0])

        np.testing.assert_allclose(
            _row_gradient_fd(row_loss, Z[i]), A[i] - Y[i], rtol=1e-7, atol=1e-9
        )
    np.testing.assert_allclose(loss.per_sample_gradient(Y, Z, A), A - Y, rtol=0)


@pytest.mark.parametrize("name", sorted(CANONICAL))
def test_canonical_loss_has_the_form_G_minus_yz(name):
    # l(y, z) = G(z) - y.z + (terms in y only), with grad G = g.
    rng = np.random.RandomState(1)
    k = 1 if name == "binary_log_loss" else 3
    loss, G = get_loss(name), CANONICAL[name]
    g = loss.output_activation
    y = _targets(name, rng, 1, k)[0]
    rests = []
    for _ in range(4):
        z = rng.normal(size=k)
        Z = z[np.newaxis]
        A = g.forward(Z.copy())
        ell = float(loss.per_sample(y[np.newaxis], Z, A)[0])
        rests.append(ell - G(z) + y @ z)
        np.testing.assert_allclose(_row_gradient_fd(G, z), A[0], rtol=1e-7)
    np.testing.assert_allclose(rests, rests[0], rtol=1e-12, atol=1e-12)


def test_logistic_worked_case():
    # dl/da = (a - y) / (a (1 - a)), da/dz = a (1 - a), their product a - y.
    sigma = get_activation("logistic")
    for y in (0.0, 1.0):
        for z in (-2.0, -0.3, 0.4, 1.7):
            a = float(sigma.forward(np.array([[z]]))[0, 0])

            def ell(a_, y=y):
                return -(y * np.log(a_[0]) + (1 - y) * np.log(1 - a_[0]))

            def act(z_):
                return sigma.forward(z_[np.newaxis].copy())[0, 0]

            dl_da = _row_gradient_fd(ell, np.array([a]))[0]
            da_dz = _row_gradient_fd(act, np.array([z]))[0]
            np.testing.assert_allclose(dl_da, (a - y) / (a * (1 - a)), rtol=1e-7)
            np.testing.assert_allclose(da_dz, a * (1 - a), rtol=1e-7)
            np.testing.assert_allclose(dl_da * da_dz, a - y, rtol=1e-7)


# ---------------------------------------------------------------------------
# Huber and absolute error: their own gradients and their own API pages
# ---------------------------------------------------------------------------


def _residual_grid():
    # Residuals on both sides of the kinks at 0 and +-delta, none on them.
    r = np.array([-3.1, -1.4, -0.9, -0.2, 0.3, 0.8, 1.2, 2.6])
    Y = np.random.RandomState(2).normal(size=(len(r), 1))
    return Y, Y + r[:, np.newaxis]


@pytest.mark.parametrize("delta", [0.5, 1.0, 2.0])
def test_huber_gradient_is_clipped_residual(delta):
    loss = HuberLoss(delta)
    Y, Z = _residual_grid()
    dZ = loss.per_sample_gradient(Y, Z, Z)
    np.testing.assert_array_equal(dZ, np.clip(Z - Y, -delta, delta))
    for i in range(len(Y)):

        def row_loss(z, i=i):
            return float(loss.per_sample(Y[i : i + 1], z[None], z[None])[0])

        np.testing.assert_allclose(_row_gradient_fd(row_loss, Z[i]), dZ[i], rtol=1e-7)


def test_absolute_error_gradient_is_sign_with_zero_at_the_target():
    loss = AbsoluteError()
    Y, Z = _residual_grid()
    Z[3] = Y[3]  # A = Y exactly: the subgradient 0
    dZ = loss.per_sample_gradient(Y, Z, Z)
    np.testing.assert_array_equal(dZ, np.sign(Z - Y))
    assert dZ[3, 0] == 0.0
    for i in np.flatnonzero(Z[:, 0] != Y[:, 0]):

        def row_loss(z, i=i):
            return float(loss.per_sample(Y[i : i + 1], z[None], z[None])[0])

        np.testing.assert_allclose(_row_gradient_fd(row_loss, Z[i]), dZ[i], rtol=1e-7)


@pytest.mark.parametrize(
    ("cls", "formula"),
    [(HuberLoss, r"\mathrm{clip}(A - Y, -\delta, \delta)"), (AbsoluteError, "sign")],
)
def test_robust_losses_document_their_own_gradient(cls, formula):
    # The API page (autodoc with :inherited-members:) shows this docstring.
    own = cls.__dict__["per_sample_gradient"].__doc__
    assert own is not None and formula in own
    assert inspect.getdoc(cls.per_sample_gradient) == inspect.cleandoc(own)
    assert "A - Y``;" not in own and "Canonical" not in own


# ---------------------------------------------------------------------------
# "its docstring repeats the formula": every function the chapter cites
# ---------------------------------------------------------------------------


def _cited_names():
    """Names on the chapter's ``Code:`` lines (``.. rst-class:: impl``)."""
    text = CHAPTER.read_text()
    paragraphs = re.findall(r"\.\. rst-class:: impl\n\n(.*?)(?:\n\n|\Z)", text, re.S)
    names = set()
    for paragraph in paragraphs:
        names.update(re.findall(r":(?:func|meth):`~?([\w.]+)`", paragraph))
    return sorted(names)


def _own_docstring(name):
    """The docstring ``name`` defines itself (not one it inherits), or None."""
    owner, _, attr = name.rpartition(".")
    if not owner:
        return getattr(skbp.core, name).__doc__
    cls = getattr(skbp.core, owner)
    member = cls.__dict__.get(attr)
    return None if member is None else member.__doc__


@pytest.mark.skipif(not CHAPTER.exists(), reason="needs the docs/ sources")
def test_every_function_the_chapter_cites_states_its_formula():
    names = _cited_names()
    assert len(names) > 40  # the parse found the Code: lines
    formula = re.compile(r":math:|\.\. math::")
    missing = [n for n in names if not formula.search(_own_docstring(n) or "")]
    assert not missing, f"no formula of their own in the docstring: {missing}"


# ---------------------------------------------------------------------------
# L2: both parts of dW, and what scaling the sample weights does
# ---------------------------------------------------------------------------


def _net(seed=3, m=7, dtype=np.float64):
    rng = np.random.RandomState(seed)
    X, Y = rng.normal(size=(m, 3)), rng.normal(size=(m, 2))
    coefs, intercepts = initialize_parameters([3, 4, 2], rng, dtype)
    activations = [get_activation("tanh"), get_activation("identity")]
    weights = rng.uniform(0.2, 3.0, size=m)
    return X.astype(dtype), Y.astype(dtype), coefs, intercepts, activations, weights


@pytest.mark.parametrize("weighted", [False, True])
def test_dW_is_the_data_term_plus_the_L2_term(weighted):
    X, Y, coefs, intercepts, activations, weights = _net()
    sw = weights if weighted else None
    n = weights.sum() if weighted else len(X)
    alpha = 0.8
    args = (X, Y, coefs, intercepts, activations, get_loss("squared_error"))
    J0, dW0, db0 = backprop(*args, alpha=0.0, sample_weight=sw)
    J, dW, db = backprop(*args, alpha=alpha, sample_weight=sw)
    squares = sum(np.sum(W * W) for W in coefs)
    np.testing.assert_allclose(J - J0, alpha / (2 * n) * squares, rtol=1e-12)
    for data, full, W in zip(dW0, dW, coefs):
        np.testing.assert_allclose(full - data, alpha / n * W, rtol=1e-10)
    for data, full in zip(db0, db):  # biases are not penalised
        np.testing.assert_array_equal(full, data)


@pytest.mark.parametrize("factor", [2.0, 1 / 3])
def test_scaling_every_sample_weight_divides_the_penalty(factor):
    X, Y, coefs, intercepts, activations, weights = _net(seed=4)
    alpha, loss = 0.6, get_loss("squared_error")
    args = (X, Y, coefs, intercepts, activations, loss)
    J_data, dW_data, db_data = backprop(*args, sample_weight=weights)
    J, dW, db = backprop(*args, alpha=alpha, sample_weight=weights)
    J_scaled_data, _, _ = backprop(*args, sample_weight=factor * weights)
    J_scaled, dW_scaled, db_scaled = backprop(
        *args, alpha=alpha, sample_weight=factor * weights
    )
    # The weighted mean loss is unchanged; the penalty is divided by factor.
    np.testing.assert_allclose(J_scaled_data, J_data, rtol=1e-13)
    np.testing.assert_allclose(J_scaled - J_data, (J - J_data) / factor, rtol=1e-12)
    for a, b, c in zip(dW_scaled, dW, dW_data):
        np.testing.assert_allclose(a - c, (b - c) / factor, rtol=1e-9, atol=1e-15)
    for a, b in zip(db_scaled, db):
        np.testing.assert_allclose(a, b, rtol=1e-12)


# ---------------------------------------------------------------------------
# Nesterov uses the updated velocity
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("nesterov", [True, False])
def test_momentum_steps_read_the_updated_velocity(nesterov):
    rng = np.random.RandomState(5)
    theta = [rng.normal(size=(3, 2))]
    eta, mu = 0.1, 0.7
    sgd = SGD(theta, learning_rate_init=eta, momentum=mu, nesterov=nesterov)
    sgd.update(theta, [rng.normal(size=(3, 2))])  # a nonzero velocity
    v_old, before = sgd.velocities[0].copy(), theta[0].copy()
    g = rng.normal(size=(3, 2))
    sgd.update(theta, [g])
    v_new = mu * v_old - eta * g
    np.testing.assert_allclose(sgd.velocities[0], v_new, rtol=1e-14)
    step = theta[0] - before
    if nesterov:
        np.testing.assert_allclose(step, mu * v_new - eta * g, rtol=1e-12)
        # The chapter's expansion in the old velocity, and not the old v:
        expanded = mu**2 * v_old - (1 + mu) * eta * g
        np.testing.assert_allclose(step, expanded, rtol=1e-12)
        assert not np.allclose(step, mu * v_old - eta * g)
    else:
        np.testing.assert_allclose(step, v_new, rtol=1e-12)
        np.testing.assert_allclose(step, mu * v_old - eta * g, rtol=1e-12)


# ---------------------------------------------------------------------------
# The gradient check: finite differences in float64, backprop in the dtype
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_check_differences_in_float64_backprop_in_the_dtype(
    dtype, monkeypatch
):
    seen = {"backprop": [], "numerical": []}
    real_backprop = gradient_check_module.backprop
    real_numerical = gradient_check_module.numerical_gradients

    def spy_backprop(X, Y, coefs, *args, **kwargs):
        seen["backprop"].append(coefs[0].dtype)
        return real_backprop(X, Y, coefs, *args, **kwargs)

    def spy_numerical(loss_fn, params, eps):
        seen["numerical"].extend(p.dtype for p in params)
        grads = real_numerical(loss_fn, params, eps)
        seen["numerical"].extend(g.dtype for g in grads)
        return grads

    monkeypatch.setattr(gradient_check_module, "backprop", spy_backprop)
    monkeypatch.setattr(gradient_check_module, "numerical_gradients", spy_numerical)
    X, Y, coefs, intercepts, activations, weights = _net(seed=6, dtype=dtype)
    error = gradient_check(
        X, Y, coefs, intercepts, activations, get_loss("squared_error"), alpha=0.3
    )
    assert error < (1e-3 if dtype == np.float32 else 1e-7)
    # The first call is backprop's own gradient, in the network's dtype;
    # every finite-difference evaluation after it runs in float64.
    assert seen["backprop"][0] == dtype
    assert set(seen["backprop"][1:]) == {np.dtype(np.float64)}
    assert set(seen["numerical"]) == {np.dtype(np.float64)}


# ---------------------------------------------------------------------------
# The Poisson loss is the one that can overflow
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "below", "above"),
    [(np.float64, 709.78, 709.79), (np.float32, 88.72, 88.73)],
)
def test_poisson_overflows_past_log_max(dtype, below, above):
    loss = get_loss("poisson")
    Y = np.array([[1.0]], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # inf, silently: no numpy warning
        for z, finite in ((below, True), (above, False)):
            Z = np.array([[z]], dtype)
            A = loss.output_activation.forward(Z.copy())
            values = (loss.per_sample(Y, Z, A), loss.per_sample_gradient(Y, Z, A))
            assert all(np.isfinite(v).all() == finite for v in values)
    np.testing.assert_allclose(np.log(np.finfo(dtype).max), below, atol=0.01)


# ---------------------------------------------------------------------------
# L-BFGS also stops on scipy's relative decrease (ftol)
# ---------------------------------------------------------------------------


def test_lbfgs_stops_on_the_relative_decrease_of_J():
    X, Y, coefs, intercepts, activations, _ = _net(seed=7, m=30)
    loss = get_loss("squared_error")
    curve = []

    def loss_and_grads():
        return backprop(X, Y, coefs, intercepts, activations, loss, alpha=1e-3)

    def callback(intermediate_result):
        curve.append(float(intermediate_result.fun))

    # tol=0: the gradient test cannot end the run, so scipy's ftol must.
    result = minimize_lbfgs(
        loss_and_grads, coefs, intercepts, 15000, 15000, 0.0, callback
    )
    # "REL_REDUCTION_OF_F" in older scipy, "RELATIVE REDUCTION OF F" newer.
    assert re.search("REL(ATIVE)?[ _]REDUCTION[ _]OF[ _]F", result.message)
    assert result.nit < 15000
    before, after = curve[-2], curve[-1]
    decrease = (before - after) / max(abs(before), abs(after), 1.0)
    assert decrease <= 1e7 * np.finfo(np.float64).eps  # 2.2e-9
    assert np.max(np.abs(result.jac)) > 0.0  # the gradient had not vanished


def test_cited_names_include_the_derivations_issue_18_named():
    # Guard for the parse above: these must be among the Code: lines.
    if not CHAPTER.exists():
        pytest.skip("needs the docs/ sources")
    names = set(_cited_names())
    for name in (
        "HuberLoss.per_sample_gradient",
        "AbsoluteError.per_sample_gradient",
        "Loss.per_sample_gradient",
        "SGD.update",
        "Adam.update",
        "Loss.value",
        "l2_penalty",
        "add_l2_gradient",
        "minimize_lbfgs",
        "numerical_gradients",
    ):
        assert name in names
    assert Loss.__dict__["per_sample_gradient"].__doc__ is not None
