"""The estimators: validation, labels and the fitted attributes.

``base`` holds what :class:`~skbp.BPClassifier` (``classifier``) and
:class:`~skbp.BPRegressor` (``regressor``) share; ``docstrings`` their
shared parameter tables; ``html_repr`` their notebook links; ``gradients``
:func:`skbp.check_gradients`. They hold no math (:mod:`skbp.core`) and no
loop (:mod:`skbp._engine`).
"""
