"""skbp: scikit-learn neural-network estimators on a hand-written backprop core.

- :class:`BPRegressor` and :class:`BPClassifier`: drop-in replacements for
  scikit-learn's ``MLPRegressor`` and ``MLPClassifier``.
- :mod:`skbp.core`: the backpropagation math in plain numpy, one concept per
  module, every forward and backward equation written out.
- :func:`check_gradients`: compare an estimator's backprop gradients with
  finite differences on your own data.
"""

from ._check_gradients import check_gradients
from ._classifier import BPClassifier
from ._persistence import load, save
from ._regressor import BPRegressor
from ._version import __version__

__all__ = [
    "BPClassifier",
    "BPRegressor",
    "check_gradients",
    "load",
    "save",
    "__version__",
]
