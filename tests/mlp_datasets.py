"""The data of scikit-learn's test_mlp.py, shared by the ported parity tests.

Module-level arrays, as in scikit-learn's module: small digits subsets
(3 classes and 2 classes, 200 rows, scaled to [0, 1]) and a noisy
regression problem.
"""

import pytest
from sklearn.datasets import load_digits, make_regression
from sklearn.preprocessing import MinMaxScaler, scale

X_digits, y_digits = load_digits(n_class=3, return_X_y=True)
X_digits_multi = MinMaxScaler().fit_transform(X_digits[:200])
y_digits_multi = y_digits[:200]

X_digits, y_digits = load_digits(n_class=2, return_X_y=True)
X_digits_binary = MinMaxScaler().fit_transform(X_digits[:200])
y_digits_binary = y_digits[:200]

classification_datasets = [
    (X_digits_multi, y_digits_multi),
    (X_digits_binary, y_digits_binary),
]

X_reg, y_reg = make_regression(
    n_samples=200, n_features=10, bias=20.0, noise=100.0, random_state=7
)
y_reg = scale(y_reg)

ignore_convergence = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)
