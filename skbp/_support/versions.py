"""``skbp.show_versions()``: the versions a bug report needs.

scikit-learn's ``show_versions`` with skbp's own additions: skbp's version,
its optional libraries and the BLAS that numpy's matrix products run on.
The system and the common dependencies come from scikit-learn's own helpers.
No optional library is imported: their versions are read from the installed
packages' metadata.
"""

import importlib.metadata

from sklearn.utils._show_versions import _get_deps_info, _get_sys_info
from threadpoolctl import threadpool_info

from .._version import __version__

__all__ = ["show_versions", "OPTIONAL_LIBRARIES"]

#: skbp's optional libraries (its extras, and the array libraries it runs
#: on): the name shown (the package to install), and the module it
#: provides, by which a variant of the package is found too
#: (``cupy-cuda12x`` for cupy, ``onnxruntime-gpu`` for onnxruntime).
OPTIONAL_LIBRARIES = {
    "dask": "dask",
    "distributed": "distributed",
    "torch": "torch",
    "cupy": "cupy",
    "array-api-compat": "array_api_compat",
    "skops": "skops",
    "skl2onnx": "skl2onnx",
    "onnx": "onnx",
    "onnxruntime": "onnxruntime",
    "rich": "rich",
}


def _installed_version(name, module, providers):
    """The version of the package ``name`` (or of another package providing
    ``module``), or None if neither is installed.

    ``providers`` is a one-item list holding the map of modules to the
    packages that provide them, read on first need (reading it takes a
    scan of every installed package).
    """
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        pass
    if not providers:
        providers.append(importlib.metadata.packages_distributions())
    for package in providers[0].get(module, ()):
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover
            continue
    return None


def _get_optional_deps_info():
    """Versions of skbp's optional libraries.

    Returns
    -------
    dict
        ``{name: version or None}`` for each of
        :data:`OPTIONAL_LIBRARIES`, None where it is not installed.
    """
    providers = []
    return {
        name: _installed_version(name, module, providers)
        for name, module in OPTIONAL_LIBRARIES.items()
    }


def _get_blas_info():
    """The BLAS libraries loaded (threadpoolctl's ``user_api="blas"``).

    Returns
    -------
    list of dict
        One dict per library, with threadpoolctl's keys: ``internal_api``
        (``openblas``, ``mkl``, ...), ``version``, ``num_threads``,
        ``filepath``, ...
    """
    return [info for info in threadpool_info() if info.get("user_api") == "blas"]


def _print_section(title, info, width):
    print(f"\n{title}:")
    for key, value in info.items():
        print(f"{key:>{width}}: {value}")


def show_versions():
    """Print the versions of skbp, its dependencies and the system.

    What a bug report needs: as :func:`sklearn.show_versions`, the system,
    Python and the main Python dependencies, with skbp's version, the
    versions of its optional libraries (None where one is not installed)
    and the BLAS library in use, with its number of threads.

    Examples
    --------
    >>> import skbp
    >>> skbp.show_versions()  # doctest: +SKIP
    """
    _print_section("System", _get_sys_info(), 10)
    _print_section("Python dependencies", {"skbp": __version__, **_get_deps_info()}, 16)
    _print_section("skbp's optional libraries", _get_optional_deps_info(), 16)
    blas = _get_blas_info()
    if not blas:
        print("\nBLAS: none loaded (threadpoolctl found none)")
    for info in blas:
        _print_section("BLAS (threadpoolctl)", info, 16)
