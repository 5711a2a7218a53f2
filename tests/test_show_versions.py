"""skbp.show_versions() and ``python -m skbp``'s command line (issue 27)."""

import importlib.metadata
import subprocess
import sys
import textwrap

import pytest
import sklearn

import skbp
from skbp.__main__ import main
from skbp._support import versions
from skbp._support.versions import OPTIONAL_LIBRARIES


def _run_python(*args):
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=300
    )


def test_show_versions_prints_skbp_its_dependencies_and_the_system(capsys):
    skbp.show_versions()
    out = capsys.readouterr().out
    for line in (
        f"skbp: {skbp.__version__}",
        f"sklearn: {sklearn.__version__}",
        f"numpy: {importlib.metadata.version('numpy')}",
        f"python: {sys.version.split()[0]}",
        f"executable: {sys.executable}",
    ):
        assert line in out


def test_show_versions_lists_every_optional_library(capsys):
    skbp.show_versions()
    out = capsys.readouterr().out
    section = out.split("skbp's optional libraries:\n")[1].split("\n\n")[0]
    shown = dict(line.strip().split(": ", 1) for line in section.splitlines())
    assert list(shown) == list(OPTIONAL_LIBRARIES)
    # The libraries of the array-api, distributed, onnx and skops extras,
    # and the array libraries.
    assert {"dask", "torch", "cupy", "array-api-compat", "skops", "onnxruntime"} <= set(
        shown
    )
    for name, version in versions._get_optional_deps_info().items():
        assert shown[name] == str(version)


def test_optional_versions_come_from_the_installed_packages(monkeypatch):
    monkeypatch.setattr(
        versions,
        "OPTIONAL_LIBRARIES",
        {
            "numpy": "numpy",
            "no-such-library": "no_such_library",
            # Not a package's name: found as the package providing the
            # module, as cupy-cuda12x provides cupy.
            "a-scikit-learn-variant": "sklearn",
        },
    )
    assert versions._get_optional_deps_info() == {
        "numpy": importlib.metadata.version("numpy"),
        "no-such-library": None,
        "a-scikit-learn-variant": importlib.metadata.version("scikit-learn"),
    }


def test_show_versions_names_the_blas_in_use(capsys):
    blas = versions._get_blas_info()
    # numpy is imported, and links a BLAS that threadpoolctl knows.
    assert blas
    for info in blas:
        assert info["user_api"] == "blas"
        assert {"internal_api", "version", "num_threads", "filepath"} <= set(info)
    skbp.show_versions()
    out = capsys.readouterr().out
    assert "BLAS (threadpoolctl):" in out
    assert f"internal_api: {blas[0]['internal_api']}" in out
    assert f"filepath: {blas[0]['filepath']}" in out


def test_neither_import_nor_show_versions_imports_an_optional_library():
    # Versions are read from the packages' metadata: importing torch or
    # dask only to print a version would take seconds. What scikit-learn
    # itself imports (rich, for its ProgressBar) is imported first.
    code = textwrap.dedent(
        f"""
        import sys
        try:
            import sklearn.callback
        except ImportError:
            pass
        modules = {sorted(set(OPTIONAL_LIBRARIES.values()))!r}
        before = {{m for m in modules if m in sys.modules}}
        import skbp
        skbp.show_versions()
        print(sorted({{m for m in modules if m in sys.modules}} - before))
        """
    )
    result = _run_python("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


# ---------------------------------------------------------------------------
# python -m skbp
# ---------------------------------------------------------------------------


def test_help_is_plain_text():
    result = _run_python("-m", "skbp", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m skbp")
    assert "--show-versions" in result.stdout
    # The module docstring is the description: no reST markup in a terminal.
    for markup in (":class:", ":func:", "``", ":ref:"):
        assert markup not in result.stdout


def test_show_versions_option_prints_them_instead_of_the_demo(capsys):
    main(["--show-versions"])
    out = capsys.readouterr().out
    assert "skbp's optional libraries:" in out
    assert "BPRegressor on the seed's curve" not in out


def test_version_option(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"skbp {skbp.__version__}\n"
