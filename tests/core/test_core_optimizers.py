"""skbp.core.optimizers: SGD and Adam, step by step against scikit-learn's.

The registry tests are parametrized over ``OPTIMIZERS``, so an optimizer added
later is covered automatically: each needs an independent formula for its
steps in ``REFERENCE`` below, and a test fails with a clear message for one
that has none yet. Those tests also run over the array libraries of
``NAMESPACES`` (numpy, array-api-strict, PyTorch CPU): the steps must be
taken in place, in the parameters' library, and equal numpy's.
"""

import inspect

import numpy as np
import pytest
from namespaces import NAMESPACES
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

from skbp.core.layout import ParameterLayout
from skbp.core.namespace import device
from skbp.core.optimizers import OPTIMIZERS, SGD, Adam, Optimizer

SHAPES = [(3, 4), (4, 2), (4,), (2,)]
N_STEPS = 6


def _params(seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    return [rng.normal(size=s).astype(dtype) for s in SHAPES]


def _grads(step, dtype=np.float64):
    rng = np.random.RandomState(100 + step)
    return [rng.normal(scale=0.5, size=s).astype(dtype) for s in SHAPES]


def _assert_lists_close(ours, theirs, rtol=1e-12, atol=1e-12):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive"])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("nesterov", [True, False])
def test_sgd_matches_sklearn_step_by_step(schedule, momentum, nesterov):
    ours_p, theirs_p = _params(), _params()
    kwargs = dict(
        learning_rate_init=0.05,
        lr_schedule=schedule,
        momentum=momentum,
        nesterov=nesterov,
        power_t=0.4,
    )
    ours, theirs = SGD(ours_p, **kwargs), SGDOptimizer(theirs_p, **kwargs)
    ids = [id(p) for p in ours_p]
    for step in range(N_STEPS):
        ours.update(ours_p, _grads(step))
        theirs.update_params(theirs_p, _grads(step))
        _assert_lists_close(ours_p, theirs_p)
        if momentum:
            _assert_lists_close(ours.velocities, theirs.velocities)
        t = (step + 1) * 32
        ours.iteration_ends(t)
        theirs.iteration_ends(t)
        assert ours.learning_rate == pytest.approx(theirs.learning_rate, rel=1e-15)
        if step == 2:  # the loss stalls once
            assert ours.trigger_stopping("", False) == theirs.trigger_stopping(
                "", False
            )
            assert ours.learning_rate == pytest.approx(theirs.learning_rate, rel=1e-15)
    assert [id(p) for p in ours_p] == ids  # updated in place
    if schedule == "constant":
        assert ours.learning_rate == 0.05
    else:
        assert ours.learning_rate < 0.05


def test_sgd_invscaling_rate():
    sgd = SGD(_params(), learning_rate_init=0.2, lr_schedule="invscaling", power_t=0.5)
    sgd.iteration_ends(99)
    assert sgd.learning_rate == pytest.approx(0.2 / 10.0, rel=1e-14)


def test_sgd_plain_step_formula():
    params = _params()
    before = [p.copy() for p in params]
    grads = _grads(0)
    SGD(params, learning_rate_init=0.1, momentum=0.0).update(params, grads)
    _assert_lists_close(params, [b - 0.1 * g for b, g in zip(before, grads)], 1e-15)


def test_sgd_nesterov_step_formula():
    # Two steps by hand: v <- mu v - lr g; theta <- theta + mu v - lr g.
    params = _params()
    theta = [p.copy() for p in params]
    sgd = SGD(params, learning_rate_init=0.1, momentum=0.8, nesterov=True)
    v = [np.zeros_like(p) for p in params]
    for step in range(2):
        g = _grads(step)
        sgd.update(params, g)
        v = [0.8 * vi - 0.1 * gi for vi, gi in zip(v, g)]
        theta = [t + 0.8 * vi - 0.1 * gi for t, vi, gi in zip(theta, v, g)]
    _assert_lists_close(params, theta, 1e-14)


def test_sgd_rejects_unknown_schedule():
    with pytest.raises(ValueError, match="schedule"):
        SGD(_params(), lr_schedule="cosine")


@pytest.mark.parametrize(
    "beta_1,beta_2,epsilon", [(0.9, 0.999, 1e-8), (0.5, 0.9, 1e-3)]
)
def test_adam_matches_sklearn_step_by_step(beta_1, beta_2, epsilon):
    ours_p, theirs_p = _params(), _params()
    kwargs = dict(
        learning_rate_init=0.01, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon
    )
    ours, theirs = Adam(ours_p, **kwargs), AdamOptimizer(theirs_p, **kwargs)
    ids = [id(p) for p in ours_p]
    for step in range(N_STEPS):
        ours.update(ours_p, _grads(step))
        theirs.update_params(theirs_p, _grads(step))
        assert ours.t == theirs.t == step + 1
        assert ours.learning_rate == pytest.approx(theirs.learning_rate, rel=1e-14)
        _assert_lists_close(ours.ms, theirs.ms)
        _assert_lists_close(ours.vs, theirs.vs)
        _assert_lists_close(ours_p, theirs_p)
        ours.iteration_ends((step + 1) * 10)  # no schedule for Adam
        theirs.iteration_ends((step + 1) * 10)
    assert [id(p) for p in ours_p] == ids


@pytest.mark.parametrize("overwrite_grads", [False, True])
def test_adam_float32_tiny_gradients_and_beta_1_near_one(overwrite_grads):
    # The working array holds (1 - b1) g before it becomes (1 - b2) g^2: no
    # intermediate may be smaller than scikit-learn's own, or float32
    # underflows where scikit-learn's does not.
    kwargs = dict(learning_rate_init=0.01, beta_1=0.9999, beta_2=0.999)
    ours_p, theirs_p = _params(dtype=np.float32), _params(dtype=np.float32)
    ours, theirs = Adam(ours_p, **kwargs), AdamOptimizer(theirs_p, **kwargs)
    for step in range(N_STEPS):
        grads = [g * np.float32(1e-16) for g in _grads(step, np.float32)]
        theirs.update_params(theirs_p, [g.copy() for g in grads])
        ours.update(ours_p, grads, overwrite_grads=overwrite_grads)
        assert all(v.dtype == np.float32 for v in ours.vs)
        _assert_lists_close(ours.vs, theirs.vs, rtol=1e-5, atol=0)
        _assert_lists_close(ours_p, theirs_p, rtol=1e-6, atol=0)


def test_adam_first_step_is_learning_rate_times_sign():
    # Bias correction: the first step is lr * g / (|g| + eps / sqrt(1 - beta_2))
    # per entry (eps is added before the correction, as in scikit-learn).
    params = _params()
    before = [p.copy() for p in params]
    grads = _grads(0)
    Adam(params, learning_rate_init=0.01, epsilon=1e-4).update(params, grads)
    eps = 1e-4 / np.sqrt(1 - 0.999)
    expected = [b - 0.01 * g / (np.abs(g) + eps) for b, g in zip(before, grads)]
    _assert_lists_close(params, expected, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("make", ["sgd", "adam"])
def test_float32_parameters_stay_float32_and_match(make):
    ours_p = _params(dtype=np.float32)
    theirs_p = _params(dtype=np.float32)
    if make == "sgd":
        ours = SGD(ours_p, learning_rate_init=0.05, lr_schedule="invscaling")
        theirs = SGDOptimizer(
            theirs_p, learning_rate_init=0.05, lr_schedule="invscaling"
        )
    else:
        ours = Adam(ours_p, learning_rate_init=0.01)
        theirs = AdamOptimizer(theirs_p, learning_rate_init=0.01)
    state = ours.velocities if make == "sgd" else ours.ms + ours.vs
    for step in range(N_STEPS):
        ours.update(ours_p, _grads(step, np.float32))
        theirs.update_params(theirs_p, _grads(step, np.float32))
        ours.iteration_ends(step + 1)
        theirs.iteration_ends(step + 1)
    for p in (*ours_p, *state):
        assert p.dtype == np.float32
    _assert_lists_close(ours_p, theirs_p, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive"])
@pytest.mark.parametrize("verbose", [False, True])
def test_trigger_stopping_as_sklearn(schedule, verbose, capsys):
    ours = SGD(_params(), learning_rate_init=0.01, lr_schedule=schedule)
    theirs = SGDOptimizer(_params(), learning_rate_init=0.01, lr_schedule=schedule)
    decisions = []
    for _ in range(12):
        stop = ours.trigger_stopping("Loss stalled.", verbose)
        ours_out = capsys.readouterr().out
        assert stop == theirs.trigger_stopping("Loss stalled.", verbose)
        theirs_out = capsys.readouterr().out
        assert ours_out == theirs_out
        assert ours.learning_rate == pytest.approx(theirs.learning_rate, rel=1e-15)
        decisions.append(stop)
    if schedule == "adaptive":
        # 0.01 / 5^k reaches <= 1e-6 after 6 divisions; then it stops.
        assert decisions[:6] == [False] * 6 and all(decisions[6:])
        assert ours.learning_rate == pytest.approx(0.01 / 5**6)
    else:
        assert all(decisions)
        assert ours.learning_rate == 0.01
    if verbose:
        assert "Loss stalled." in ours_out


def test_adam_trigger_stopping_stops(capsys):
    adam, theirs = Adam(_params()), AdamOptimizer(_params())
    assert adam.trigger_stopping("Done.", True) is True
    out = capsys.readouterr().out
    theirs.trigger_stopping("Done.", True)
    assert out == capsys.readouterr().out == "Done. Stopping.\n"


#: Each optimizer's variants: momentum with and without Nesterov, and none.
VARIANTS = {
    "adam": lambda p: Adam(p, learning_rate_init=0.01),
    "nesterov": lambda p: SGD(p, 0.05, momentum=0.9, nesterov=True),
    "momentum": lambda p: SGD(p, 0.05, momentum=0.9, nesterov=False),
    "plain": lambda p: SGD(p, 0.05, momentum=0.0),
}


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("make", list(VARIANTS.values()), ids=list(VARIANTS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_overwrite_grads_takes_the_same_steps_without_scratch(make, dtype, lib):
    # A training loop lets the step use the gradients as its working memory:
    # the steps must be exactly those of the default, which keeps them intact.
    keep_p = [lib.to(p) for p in _params(dtype=dtype)]
    overwrite_p = [lib.to(p) for p in _params(dtype=dtype)]
    keep, overwrite = make(keep_p), make(overwrite_p)
    for step in range(N_STEPS):
        grads = [lib.to(g) for g in _grads(step, dtype)]
        before = [lib.back(g).copy() for g in grads]
        keep.update(keep_p, grads)
        for g, b in zip(grads, before):
            np.testing.assert_array_equal(lib.back(g), b)  # left unchanged
        overwrite.update(overwrite_p, [lib.to(b) for b in before], overwrite_grads=True)
        for a, b in zip(keep_p, overwrite_p):
            assert a.dtype == _lib_dtype(lib, dtype)
            np.testing.assert_array_equal(lib.back(a), lib.back(b))
    assert overwrite._scratch is None  # nothing the size of the model allocated


def _lib_dtype(lib, dtype):
    """``dtype`` as the library ``lib`` spells it."""
    return lib.to(np.zeros(0, dtype)).dtype


def _state(optimizer):
    """The optimizer's state arrays (velocities, or Adam's two means)."""
    if isinstance(optimizer, Adam):
        return optimizer.ms + optimizer.vs
    return optimizer.velocities


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("make", list(VARIANTS.values()), ids=list(VARIANTS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("overwrite_grads", [False, True])
def test_steps_in_every_library_equal_numpy_in_place(make, dtype, overwrite_grads, lib):
    # The same optimizer on numpy arrays and on the library's: the library's
    # steps land in the very arrays given (a view taken before sees them),
    # the state lives in the library, and every step equals numpy's.
    numpy_p = _params(dtype=dtype)
    params = [lib.to(p) for p in numpy_p]
    views = [p[...] for p in params]
    on_numpy, ours = make(numpy_p), make(params)
    for a, param in zip(_state(ours), params):
        assert type(a) is type(param) and device(a) == device(param)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    for step in range(N_STEPS):
        grads = _grads(step, dtype)
        on_numpy.update(numpy_p, grads)
        ours.update(params, [lib.to(g) for g in grads], overwrite_grads)
        for view, param, expected in zip(views, params, numpy_p):
            assert type(param) is type(view) and param.dtype == view.dtype
            np.testing.assert_array_equal(lib.back(view), lib.back(param))
            np.testing.assert_allclose(lib.back(param), expected, rtol, atol=1e-15)
        for a, b in zip(_state(ours), _state(on_numpy)):
            assert a.dtype == _lib_dtype(lib, dtype)
            np.testing.assert_allclose(lib.back(a), b, rtol, atol=1e-15)


# ---------------------------------------------------------------------------
# Registry: every optimizer against its own formula, on lists and flat vectors
# ---------------------------------------------------------------------------


def _sgd_reference(theta, grads, learning_rate_init, momentum, nesterov):
    """Nesterov SGD by hand: v <- mu v - lr g; theta <- theta + mu v - lr g."""
    v = np.zeros_like(theta)
    for g in grads:
        v = momentum * v - learning_rate_init * g
        theta = theta + (momentum * v - learning_rate_init * g if nesterov else v)
    return theta


def _adam_reference(theta, grads, learning_rate_init, beta_1, beta_2, epsilon):
    """Adam by hand (Kingma & Ba, with scikit-learn's placement of epsilon)."""
    m = v = np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        lr = learning_rate_init * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        theta = theta - lr * m / (np.sqrt(v) + epsilon)
    return theta


#: Constructor keywords (non-default values) and an independent formula of the
#: steps, ``f(theta, grads, **keywords)`` on one float64 vector, per optimizer.
REFERENCE = {
    "sgd": (
        {"learning_rate_init": 0.1, "momentum": 0.8, "nesterov": True},
        _sgd_reference,
    ),
    "adam": (
        {"learning_rate_init": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-6},
        _adam_reference,
    ),
}


def _reference(name):
    if name not in REFERENCE:
        pytest.fail(
            f"optimizer {name!r} has no reference formula in tests/core: add one "
            "to REFERENCE in test_core_optimizers.py"
        )
    return REFERENCE[name]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_registry_names_and_constructor(name):
    cls = OPTIMIZERS[name]
    assert issubclass(cls, Optimizer) and cls.name == name
    # The estimators pass the parameters first and fill the other keywords
    # from their hyperparameters: every one of those needs a default.
    parameters = list(inspect.signature(cls).parameters.values())
    assert parameters[0].name == "params"
    assert all(p.default is not p.empty for p in parameters[1:])


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("overwrite_grads", [False, True])
def test_steps_match_reference_formula(name, overwrite_grads, lib):
    keywords, reference = _reference(name)
    theta = np.concatenate([p.ravel() for p in _params()])
    grads = [np.concatenate([g.ravel() for g in _grads(step)]) for step in range(4)]
    params = [lib.to(theta.copy())]
    flat = params[0]
    optimizer = OPTIMIZERS[name](params, **keywords)
    for g in grads:
        optimizer.update(params, [lib.to(g.copy())], overwrite_grads=overwrite_grads)
    assert params[0] is flat and type(flat) is type(lib.to(theta))
    np.testing.assert_allclose(
        lib.back(params[0]), reference(theta, grads, **keywords), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_flat_vector_steps_as_the_arrays_it_packs(name):
    # The estimators update one flat vector (weights then biases) whose views
    # are the layers' arrays: the same steps as on the arrays one by one.
    keywords, _ = _reference(name)
    arrays = _params()
    coefs, intercepts = arrays[:2], arrays[2:]
    layout = ParameterLayout.of(coefs, intercepts)
    flat = [layout.pack(coefs, intercepts)]
    on_arrays = OPTIMIZERS[name](arrays, **keywords)
    on_flat = OPTIMIZERS[name](flat, **keywords)
    for step in range(N_STEPS):
        grads = _grads(step)
        on_arrays.update(arrays, grads)
        on_flat.update(flat, [layout.pack(grads[:2], grads[2:])])
    np.testing.assert_allclose(
        flat[0], layout.pack(arrays[:2], arrays[2:]), rtol=1e-14, atol=1e-15
    )
