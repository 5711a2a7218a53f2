"""The package's shape: layers, no cycles, few top-level modules, no hidden imports.

docs/architecture.rst draws the layers; ``pyproject.toml`` declares them for
import-linter (``lint-imports``, run in CI), and these tests run the same
contracts inside the suite, so that a change that breaks a layer fails here
too.
"""

import ast
from pathlib import Path

import pytest

import skbp

PACKAGE = Path(skbp.__file__).parent
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

#: The modules directly in skbp/: the public ones, the entry point and the
#: version. Everything else lives in a subpackage named after its layer.
TOP_LEVEL = {
    "__init__",
    "__main__",
    "_version",
    "demo",
    "exceptions",
    "inspection",
    "onnx",
    "streaming",
}


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def test_at_most_eight_modules_directly_in_the_package():
    found = {p.stem for p in PACKAGE.glob("*.py")}
    assert found == TOP_LEVEL
    assert len(found) <= 8


def test_the_layers_hold():
    cli = pytest.importorskip("importlinter.cli", reason="import-linter not installed")
    if not PYPROJECT.exists():  # pragma: no cover - tests run from a checkout
        pytest.skip("no pyproject.toml beside the tests")
    status = cli.lint_imports(
        config_filename=str(PYPROJECT), no_cache=True, no_logo=True
    )
    assert status == cli.EXIT_STATUS_SUCCESS


def test_no_import_cycle():
    grimp = pytest.importorskip("grimp", reason="import-linter not installed")
    graph = grimp.build_graph("skbp")
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back:
                cycles.append((module, *back))
    assert cycles == []


def _function_level_imports(tree):
    """Imports of skbp's own modules written inside a function or class."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom) and (
                inner.level or (inner.module or "").startswith("skbp")
            ):
                found.append(inner.lineno)
            elif isinstance(inner, ast.Import) and any(
                alias.name.startswith("skbp") for alias in inner.names
            ):
                found.append(inner.lineno)
    return found


def test_no_function_level_import_of_skbp_itself():
    # Such an import hides a dependency from the layers' check (and is how
    # a cycle is usually dodged).
    found = {
        str(path.relative_to(PACKAGE)): lines
        for path in _modules()
        if (lines := _function_level_imports(ast.parse(path.read_text())))
    }
    assert found == {}


def test_version_lives_in_a_leaf_module():
    tree = ast.parse((PACKAGE / "_version.py").read_text())
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert imports == []
    assert skbp.__version__ == skbp._version.__version__


def test_function_level_import_detector_sees_one():
    tree = ast.parse("def f():\n    from ._model import arrays\n    import skbp.core\n")
    assert _function_level_imports(tree) == [2, 3]


#: The size limits of the estimator layer's redesign: a class fits in a
#: module a reader can hold, a function body on a screen.
MAX_CLASS_LINES = 400
MAX_FUNCTION_BODY_LINES = 40


def _body_lines(node):
    """A function's body, from its first statement after the docstring."""
    body = node.body
    first = body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
        and len(body) > 1
    ):
        body = body[1:]
    return body[-1].end_lineno - body[0].lineno + 1


def _oversized(tree):
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_CLASS_LINES:
                found.append((node.name, lines))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = _body_lines(node)
            if lines > MAX_FUNCTION_BODY_LINES:
                found.append((node.name, lines))
    return found


def test_no_class_over_400_lines_and_no_function_body_over_40():
    found = {
        str(path.relative_to(PACKAGE)): sizes
        for path in _modules()
        if (sizes := _oversized(ast.parse(path.read_text())))
    }
    assert found == {}


def test_the_size_check_sees_a_long_function():
    source = "def f():\n    '''Doc.'''\n" + "    x = 1\n" * 41
    assert _oversized(ast.parse(source)) == [("f", 41)]
