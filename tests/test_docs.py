"""Facts the prose pages of docs/ state, checked against their source.

So that a requirement or a snippet cannot drift from what it describes
(issue 16: getting_started said scikit-learn 1.6 after pyproject required
1.7; scaling's LocalCluster snippet failed when run as a script).
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _requirement(name):
    """The minimum version of ``name`` in pyproject.toml (read as text: no
    tomllib before Python 3.11)."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    if name == "python":
        match = re.search(r'^requires-python = ">=([\d.]+)"', pyproject, re.M)
    else:
        match = re.search(rf'^\s*"{re.escape(name)}>=([\d.]+)"', pyproject, re.M)
    assert match is not None, f"pyproject.toml states no minimum {name}"
    return match[1]


def _python_blocks(page):
    """The ``.. code-block:: python`` blocks of a page, dedented."""
    blocks = re.findall(
        r"^\.\. code-block:: python\n\n((?:(?:   .*)?\n)+)", page.read_text(), re.M
    )
    return [re.sub(r"^   ", "", block, flags=re.M) for block in blocks]


@pytest.mark.parametrize(
    ("name", "stated"), [("python", "Python"), ("scikit-learn", "scikit-learn")]
)
def test_getting_started_states_pyprojects_minimum_versions(name, stated):
    text = " ".join((DOCS / "getting_started.rst").read_text().split())
    found = re.findall(rf"{stated} ([\d.]+) or later", text)
    assert found == [_requirement(name)], (
        f"getting_started.rst says {stated} {found}, pyproject.toml requires "
        f">={_requirement(name)}"
    )


def _is_main_guard(node):
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
        and isinstance(node.test.comparators[0], ast.Constant)
        and node.test.comparators[0].value == "__main__"
    )


def test_scaling_cluster_snippet_runs_only_as_a_script():
    # LocalCluster's worker processes import the script that started them:
    # everything but imports must sit under `if __name__ == "__main__":`, or
    # each worker starts a cluster of its own ("Nanny failed to start").
    blocks = [b for b in _python_blocks(DOCS / "scaling.rst") if "LocalCluster(" in b]
    assert blocks, "no LocalCluster snippet found in scaling.rst"
    for block in blocks:
        body = ast.parse(block).body
        guards = [node for node in body if _is_main_guard(node)]
        assert len(guards) == 1
        outside = [node for node in body if node not in guards]
        assert all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in outside)
        assert "LocalCluster(" in ast.unparse(guards[0])


def test_scaling_names_the_package_zarr_arrays_need():
    # dask.array's from_zarr and to_zarr import zarr, which no dask extra
    # installs (issue 27): the page's install line names it.
    page = (DOCS / "scaling.rst").read_text()
    assert any("zarr(" in block for block in _python_blocks(DOCS / "scaling.rst"))
    installs = re.findall(r"^\s*pip install (.*)$", page, re.M)
    assert any(re.search(r"(^|\s)zarr(\s|$)", line) for line in installs), installs
