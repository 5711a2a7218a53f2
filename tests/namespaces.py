"""The array libraries the core is tested on, as pytest parameters.

numpy always; array-api-strict (the standard and nothing more) and PyTorch
on the CPU when installed, skipped with a reason otherwise. Each entry
converts a numpy array to the library and back.
"""

import importlib.util

import numpy as np
import pytest

__all__ = ["NAMESPACES", "Library"]


class Library:
    """Convert numpy arrays to one array library (``to``) and back (``back``)."""

    def __init__(self, name):
        self.name = name

    def to(self, array):
        if self.name == "numpy":
            return np.asarray(array)
        if self.name == "array_api_strict":
            import array_api_strict

            return array_api_strict.asarray(array)
        import torch

        return torch.asarray(np.asarray(array))

    def back(self, array):
        from skbp.core.namespace import to_numpy

        if self.name == "array_api_strict":
            return np.asarray(array)
        return to_numpy(array)

    def scalar(self, value):
        """``value`` as a float, after checking what the core returns for a
        loss or a norm: a Python float for numpy, a 0-d array of the library
        otherwise (left on its device: a float would make the host wait)."""
        if self.name == "numpy":
            assert isinstance(value, float), type(value)
        else:
            assert type(value) is type(self.to(np.zeros(1))), type(value)
            assert value.ndim == 0
        return float(value)

    def __repr__(self):
        return self.name


def _param(name, module):
    installed = module is None or importlib.util.find_spec(module) is not None
    marks = [] if installed else [pytest.mark.skip(reason=f"{module} not installed")]
    if module is not None and importlib.util.find_spec("array_api_compat") is None:
        marks = [pytest.mark.skip(reason="array-api-compat not installed")]
    return pytest.param(Library(name), id=name, marks=marks)


#: numpy, array-api-strict and PyTorch (CPU), as parameters of a test.
NAMESPACES = [
    _param("numpy", None),
    _param("array_api_strict", "array_api_strict"),
    _param("torch", "torch"),
]
