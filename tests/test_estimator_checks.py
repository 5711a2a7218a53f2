"""scikit-learn's estimator checks, with no expected failures.

The default constructors first (what the issue asks), then a few
configurations that switch skbp's own features on, so that class weights,
dropout, per-layer and new activations, the robust losses and the
no-hidden-layer network are held to the same contract.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

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
]


@parametrize_with_checks([BPRegressor(), BPClassifier()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@parametrize_with_checks(FEATURE_CONFIGURATIONS)
def test_sklearn_compatible_with_skbp_features(estimator, check):
    check(estimator)
