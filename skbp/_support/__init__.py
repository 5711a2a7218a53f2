"""Help for users reporting a problem: :func:`skbp.show_versions`.

Above the estimators' layers, below the public modules: nothing that trains
a network imports it.
"""

from .versions import show_versions

__all__ = ["show_versions"]
