"""scikit-learn's estimator checks, with no expected failures.

The default constructors first (what the issue asks), then a few
configurations that switch skbp's own features on, so that class weights,
dropout, per-layer and new activations, the robust losses and the
no-hidden-layer network and the quantile loss are held to the same contract.

scikit-learn's array-API checks on PyTorch's CUDA device are skipped, with
a reason, where ``torch.cuda.is_available()`` is false (scikit-learn itself
skips them only for a PyTorch built without CUDA).
"""

import functools

import pytest
from namespaces import cuda_skip_reason
from sklearn.utils.estimator_checks import (
    check_array_api_input,
    parametrize_with_checks,
)

from skbp import BPClassifier, BPRegressor

# class_weight='balanced' goes with lbfgs: the checks call partial_fit, which
# (like SGDClassifier's) refuses 'balanced' since it sees one batch at a time.
FEATURE_CONFIGURATIONS = [
    BPClassifier(
        hidden_layer_sizes=(20,), solver="lbfgs", alpha=0.01, class_weight="balanced"
    ),
    BPClassifier(
        hidden_layer_sizes=(16, 8), activation=["silu", "leaky_relu"], dropout=[0.2, 0]
    ),
    BPClassifier(hidden_layer_sizes=(), solver="lbfgs", activation=[]),
    BPRegressor(loss="huber", activation="gelu", restore_best_weights=True),
    BPRegressor(loss="absolute_error", hidden_layer_sizes=(), solver="sgd"),
    BPRegressor(hidden_layer_sizes=(10, 10), activation=["elu", "softplus"]),
    BPRegressor(loss="quantile", quantile=0.7, solver="lbfgs"),
]


def _run(check, estimator):
    """Run one of scikit-learn's checks, skipping one on PyTorch's CUDA
    device where ``torch.cuda.is_available()`` is false."""
    reason = cuda_skip_reason(check)
    if reason is not None:
        pytest.skip(reason)
    check(estimator)


@parametrize_with_checks([BPRegressor(), BPClassifier()])
def test_sklearn_compatible_estimator(estimator, check):
    _run(check, estimator)


@parametrize_with_checks(FEATURE_CONFIGURATIONS)
def test_sklearn_compatible_with_skbp_features(estimator, check):
    _run(check, estimator)


def _checks():
    """scikit-learn's checks of BPRegressor, as ``parametrize_with_checks``
    hands them to the tests above (the parameters of its pytest mark)."""
    _, parameters = parametrize_with_checks([BPRegressor()]).args
    return [getattr(p, "values", p)[1] for p in parameters]


@pytest.mark.parametrize("cuda", [False, True], ids=["no CUDA", "CUDA"])
def test_exactly_the_cuda_checks_are_skipped_without_cuda(cuda):
    asked = []

    def cuda_available():
        asked.append(True)
        return cuda

    reasons = {
        repr(check): cuda_skip_reason(check, cuda_available) for check in _checks()
    }
    on_cuda = {name for name in reasons if "'cuda'" in name}
    # Single-namespace and mixed-input checks both use CUDA.
    assert any("check_array_api_input" in name for name in on_cuda)
    assert any("check_array_api_mixed_inputs" in name for name in on_cuda)
    skipped = {name for name, reason in reasons.items() if reason is not None}
    assert skipped == (set() if cuda else on_cuda)
    assert all("torch.cuda.is_available() is False" in reasons[n] for n in skipped)
    assert len(asked) == len(on_cuda)  # asked only for checks that use CUDA


def test_torch_on_the_cpu_and_other_checks_are_never_skipped():
    for check in (
        functools.partial(
            check_array_api_input,
            "BPRegressor",
            device_name="cpu",
            array_namespace="torch",
        ),
        functools.partial(
            check_array_api_input,
            "BPRegressor",
            array_namespace="cupy",
            device_name="cuda",
        ),
        print,
    ):
        assert cuda_skip_reason(check, lambda: False) is None
