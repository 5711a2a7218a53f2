"""The array libraries the core is tested on, as pytest parameters.

numpy always; array-api-strict (the standard and nothing more) and PyTorch
on the CPU when installed, skipped with a reason otherwise. Each entry
converts a numpy array to the library and back.
"""

import functools
import importlib.util
import warnings

import numpy as np
import pytest

__all__ = ["NAMESPACES", "Library", "cuda_skip_reason"]


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


def cuda_skip_reason(check, cuda_available=None):
    """Why one of scikit-learn's estimator checks cannot run here, or None.

    scikit-learn skips its PyTorch CUDA checks only when PyTorch was built
    without CUDA. A PyTorch with CUDA libraries on a machine without a
    usable driver (or GPU) fails them instead ("CUDA driver version is
    insufficient"). So a check that puts arrays on PyTorch's CUDA device is
    skipped, with this reason, whenever ``torch.cuda.is_available()`` is
    false, whatever the wheel.

    Parameters
    ----------
    check : callable
        A check as ``parametrize_with_checks`` hands it to a test: a
        ``functools.partial`` whose keywords name the array libraries and
        devices it uses (``array_namespace`` and ``device_name``, or
        ``(xp, device)`` pairs for mixed inputs).
    cuda_available : callable, optional
        ``() -> bool``; by default ``torch.cuda.is_available`` (asked only
        for a check that uses CUDA).

    Returns
    -------
    str or None
    """
    if not _uses_torch_cuda(check):
        return None
    if (cuda_available or _torch_cuda_is_available)():
        return None
    return (
        "torch.cuda.is_available() is False: no usable CUDA device or driver "
        "for scikit-learn's PyTorch CUDA check"
    )


def _uses_torch_cuda(check):
    keywords = getattr(check, "keywords", None) or {}
    places = [(keywords.get("array_namespace"), keywords.get("device_name"))]
    places += [
        (value.xp, value.device)
        for value in keywords.values()
        if hasattr(value, "xp") and hasattr(value, "device")
    ]
    return any(
        library == "torch" and str(device).split(":")[0] == "cuda"
        for library, device in places
    )


@functools.cache
def _torch_cuda_is_available():
    if importlib.util.find_spec("torch") is None:
        return False  # scikit-learn skips the check itself: torch is missing
    import torch

    with warnings.catch_warnings():
        # A wheel with CUDA on a machine without a driver warns as it looks.
        warnings.simplefilter("ignore")
        return torch.cuda.is_available()
