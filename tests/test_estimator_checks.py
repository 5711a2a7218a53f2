"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skbp import BPClassifier, BPRegressor


@parametrize_with_checks([BPRegressor(), BPClassifier()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
