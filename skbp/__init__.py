"""skbp: scikit-learn neural-network estimators on a hand-written backprop core.

- :class:`BPRegressor` and :class:`BPClassifier`: drop-in replacements for
  scikit-learn's ``MLPRegressor`` and ``MLPClassifier``.
- :mod:`skbp.core`: the backpropagation math in plain numpy, one concept per
  module, every forward and backward equation written out.
- :func:`check_gradients`: compare an estimator's backprop gradients with
  finite differences on your own data.
- :func:`show_versions`: the versions of skbp, its dependencies and the
  BLAS in use, for a bug report.

The private subpackages are layers, each importing only those below it
(``docs/architecture.rst``; enforced by ``lint-imports``): ``_support`` >
``_persistence`` > ``_estimators`` > ``_engine`` > ``_data`` > ``_model`` >
``core``.
"""

import sys

from ._estimators import classifier as _classifier
from ._estimators import regressor as _regressor
from ._estimators.gradients import check_gradients
from ._persistence.model_file import load, save
from ._support import show_versions
from ._version import __version__

BPClassifier = _classifier.BPClassifier
BPRegressor = _regressor.BPRegressor

# Pickles and skops files of skbp 0.1 name the estimators by the modules
# that defined them then, skbp._classifier and skbp._regressor. Those names
# resolve to the modules that define them now, for one more release (new
# files name skbp.BPClassifier, which no re-layout moves). No file: a
# module of its own would only re-export.
sys.modules.setdefault(f"{__name__}._classifier", _classifier)
sys.modules.setdefault(f"{__name__}._regressor", _regressor)

__all__ = [
    "BPClassifier",
    "BPRegressor",
    "check_gradients",
    "load",
    "save",
    "show_versions",
    "__version__",
]
