"""Every code example of the docs runs as written (issue 27).

Each page, ``docs/*.rst`` and ``README.md``, is run as a notebook would run
it: its python blocks (``.. code-block:: python``; in the README, fences
opened with ```` ```python ````), in order, in one namespace whose
``__name__`` is ``"__main__"``, in a fresh working directory of the page's
own (blocks may write files). There is one test per block, named by page
and line (``monitoring.rst:57``); each runs the blocks above it first, if
their own tests have not, so a failure names the block that failed.

Two conventions, visible in the pages' source:

Output
    A ``.. code-block:: text`` block (in the README, a ```` ```text ````
    fence) that follows a python block with nothing but blank lines between
    them shows what that python block prints. The test compares the two by
    doctest's rules with ``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``: ``...``
    stands for any text, such as the digits that vary between machines.
Blocks that cannot run here
    A block that needs what the test run lacks (a GPU, a machine of a
    cluster, a user's files) is preceded by a comment, on one line of its
    own (in the README, ``<!-- ... -->``) followed by a blank line:

    - ``.. skbp-doctest: skip — <reason>``: never run;
    - ``.. skbp-doctest: requires <name>[, <name>...] — <reason>``: run only
      where every ``<name>`` holds; a name is ``cuda`` (PyTorch sees a CUDA
      GPU) or a module that must import (``torch``).

    The test skips such a block with its reason. ``--`` may stand for the
    dash. Any other ``skbp-doctest`` comment fails the test.

Each block must also leave no Dask client open (issue 27: an open client
prints errors when the interpreter exits), and changes to scikit-learn's
configuration, the environment variables and the working directory last
until the page ends, not beyond it.
"""

import contextlib
import doctest
import importlib.util
import io
import linecache
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sklearn

ROOT = Path(__file__).resolve().parents[1]
PAGES = [*sorted((ROOT / "docs").glob("*.rst")), ROOT / "README.md"]

_MARKER = re.compile(
    r"^(?:\.\. |<!-- )skbp-doctest: (?P<rule>.*?)(?: -->)?$",
)
_RULE = re.compile(
    r"^(?:(?P<skip>skip)|requires (?P<names>[\w.]+(?:, [\w.]+)*))"
    r" (?:—|--) (?P<reason>\S.*)$"
)
_RST_DIRECTIVE = re.compile(r"^(?P<indent> *)\.\. code-block:: (?P<language>\S+)\s*$")
_MD_FENCE = re.compile(r"^```(?P<language>\w*)\s*$")


@dataclass(repr=False)
class Block:
    """One python block of a page, and what the page says about it."""

    page: Path
    line: int  # of the directive or fence, from 1
    first: int  # the line of the block's first line of code
    code: str
    expected: str | None = None  # the output block that follows it
    rule: str | None = None  # its skbp-doctest comment

    @property
    def name(self):
        return f"{self.page.name}:{self.line}"

    def __repr__(self):
        return f"<block {self.name}>"


def _rst_blocks(lines):
    """(line, language, first line of code, code) of each code-block."""
    for i, text in enumerate(lines):
        match = _RST_DIRECTIVE.match(text)
        if match is None:
            continue
        indent = len(match["indent"])
        j = i + 1
        # Options (":caption: ...") come first, then a blank line.
        while j < len(lines) and lines[j].strip().startswith(":"):
            j += 1
        body = []
        for k in range(j, len(lines)):
            line = lines[k]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            body.append((k, line))
        while body and not body[-1][1].strip():
            body.pop()
        while body and not body[0][1].strip():
            body.pop(0)
        if not body:
            continue
        first = body[0][0]
        depth = min(len(t) - len(t.lstrip()) for _, t in body if t.strip())
        code = "\n".join(t[depth:] for _, t in body) + "\n"
        yield i, match["language"], first, code, body[-1][0]


def _md_blocks(lines):
    """(line, language, first line of code, code, last line) of each fence."""
    i = 0
    while i < len(lines):
        match = _MD_FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        end = next(k for k in range(i + 1, len(lines)) if lines[k].strip() == "```")
        yield i, match["language"], i + 1, "\n".join(lines[i + 1 : end]) + "\n", end
        i = end + 1


def _marker_before(lines, i):
    """The skbp-doctest rule on the paragraph just above line ``i``."""
    k = i - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    if k < 0:
        return None
    match = _MARKER.match(lines[k].strip())
    return None if match is None else match["rule"]


def _only_blank_between(lines, start, stop):
    return all(not lines[k].strip() for k in range(start + 1, stop))


def page_blocks(page):
    """The python blocks of ``page``, each with its output block and rule."""
    lines = page.read_text(encoding="utf-8").splitlines()
    parse = _md_blocks if page.suffix == ".md" else _rst_blocks
    found = list(parse(lines))
    blocks = []
    for n, (i, language, first, code, last) in enumerate(found):
        if language != "python":
            continue
        block = Block(page, i + 1, first + 1, code, rule=_marker_before(lines, i))
        if n + 1 < len(found):
            j, next_language, _, output, _ = found[n + 1]
            if next_language == "text" and _only_blank_between(lines, last, j):
                block.expected = output
        blocks.append(block)
    return blocks


BLOCKS = [block for page in PAGES for block in page_blocks(page)]


def _requirement_holds(name):
    if name == "cuda":
        if importlib.util.find_spec("torch") is None:
            return False
        import torch

        return torch.cuda.is_available()
    return importlib.util.find_spec(name) is not None


def _why_not_run(block):
    """The reason to skip ``block``, or None to run it."""
    if block.rule is None:
        return None
    match = _RULE.match(block.rule)
    assert match, (
        f"{block.name}: unknown comment 'skbp-doctest: {block.rule}'; see "
        "tests/test_docs_examples.py for the two forms"
    )
    if match["skip"]:
        return match["reason"]
    missing = [n for n in match["names"].split(", ") if not _requirement_holds(n)]
    return f"{match['reason']} (missing: {', '.join(missing)})" if missing else None


@dataclass(repr=False)
class PageRun:
    """A page's notebook: its namespace and state between its blocks."""

    workdir: Path
    namespace: dict = field(default_factory=lambda: {"__name__": "__main__"})
    config: dict = field(default_factory=sklearn.get_config)
    environ: dict = field(default_factory=lambda: dict(os.environ))
    done: set = field(default_factory=set)
    failed: str | None = None


_RUNS = {}


@contextlib.contextmanager
def _page_state(run):
    """The page's configuration, environment and working directory, put
    back as they were for the rest of the suite afterwards."""
    before_env, before_dir = dict(os.environ), os.getcwd()
    os.environ.clear()
    os.environ.update(run.environ)
    os.chdir(run.workdir)
    try:
        with sklearn.config_context(**run.config):
            try:
                yield
            finally:
                run.config = sklearn.get_config()
    finally:
        run.environ = dict(os.environ)
        os.environ.clear()
        os.environ.update(before_env)
        os.chdir(before_dir)
        if "matplotlib.pyplot" in sys.modules:
            import matplotlib.pyplot as plt

            plt.close("all")


def _open_dask_client():
    """The default Dask client a block left open, or None."""
    if "distributed" not in sys.modules:
        return None
    import distributed

    try:
        return distributed.get_client()
    except ValueError:  # "No global client found and no address provided"
        return None


def _close_dask_client():
    """Close the Dask client left open, and its cluster; True if there was
    one."""
    client = _open_dask_client()
    if client is None:
        return False
    cluster = client.cluster
    client.close()
    if cluster is not None:
        cluster.close()
    return True


def _execute(block, run):
    """Run ``block`` in its page's namespace; return what it printed."""
    # Blank lines in front, so that tracebacks give the page's line numbers;
    # and in linecache, so that they quote the block, not the page.
    source = "\n" * (block.first - 1) + block.code
    filename = f"{block.page.relative_to(ROOT)}, block at line {block.line}"
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    code = compile(source, filename, "exec")
    out = io.StringIO()
    try:
        with _page_state(run), contextlib.redirect_stdout(out):
            exec(code, run.namespace)
    finally:
        # Closed here, even after an error, so that no test after it runs
        # its Dask work on this block's cluster.
        left_open = _close_dask_client()
    if left_open:
        pytest.fail(f"{block.name} left a Dask client open: close it (with ...)")
    return out.getvalue()


def _check_output(block, printed):
    if block.expected is None:
        return
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    checker = doctest.OutputChecker()
    assert checker.check_output(block.expected, printed, flags), (
        f"{block.name} printed\n{printed}\nbut its output block shows\n{block.expected}"
    )


def _run_one(block, run):
    if _why_not_run(block) is not None or block.line in run.done:
        return None
    try:
        printed = _execute(block, run)
    except BaseException:
        run.failed = block.name
        raise
    finally:
        run.done.add(block.line)
    return printed


@pytest.fixture(autouse=True)
def _matplotlib_off_screen(monkeypatch):
    if importlib.util.find_spec("matplotlib") is None:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: block.name)
def test_example_runs_as_written(block, tmp_path_factory):
    page = block.page
    if page not in _RUNS:
        _RUNS[page] = PageRun(tmp_path_factory.mktemp(page.stem))
    run = _RUNS[page]
    # The blocks above, when their own tests did not run them (-k, -x).
    for earlier in (b for b in BLOCKS if b.page == page and b.line < block.line):
        if run.failed is not None:
            break
        try:
            printed = _run_one(earlier, run)
            if printed is not None:
                _check_output(earlier, printed)
        except Exception as error:
            raise AssertionError(f"{earlier.name}, above, failed") from error
    if run.failed is not None and run.failed != block.name:
        pytest.skip(f"not run: {run.failed}, above it, failed")
    reason = _why_not_run(block)
    if reason is not None:
        pytest.skip(reason)
    printed = _run_one(block, run)
    assert printed is not None, f"{block.name} ran before its test"
    _check_output(block, printed)


# The reader of the pages: a test that cannot fail because it found nothing
# is no test.


def test_every_page_with_python_has_its_blocks_found():
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        stated = len(
            re.findall(r"^\s*(?:\.\. code-block:: python|```python)\s*$", text, re.M)
        )
        assert stated == sum(b.page == page for b in BLOCKS), page.name
        # Other ways to write python would go unchecked: there are none.
        assert not re.search(r"^\s*\.\. (?:code|sourcecode|testcode)::", text, re.M)
        assert not re.search(r"^\s*>>> ", text, re.M), page.name
    assert {b.page.name for b in BLOCKS} >= {
        "README.md",
        "getting_started.rst",
        "gpu.rst",
        "index.rst",
        "monitoring.rst",
        "reliability.rst",
        "scaling.rst",
    }


def test_reader_of_rules_and_output_blocks(tmp_path):
    page = tmp_path / "page.rst"
    page.write_text(
        "Text.\n\n.. code-block:: python\n\n   print(1 +\n         1)\n\n"
        ".. code-block:: text\n\n   2\n\nProse.\n\n"
        "- item\n\n"
        "  .. skbp-doctest: requires cuda, no_such_module_xyz — needs a GPU\n\n"
        "  .. code-block:: python\n     :caption: nested\n\n"
        "     x = 1\n\n       y = 2\n\n"
        ".. skbp-doctest: skip -- a user's files\n\n"
        ".. code-block:: python\n\n   open('mine.csv')\n\n"
        "Prose.\n\n.. code-block:: text\n\n   not output: prose between\n",
        encoding="utf-8",
    )
    first, nested, files = page_blocks(page)
    assert (first.line, first.first, first.code) == (3, 5, "print(1 +\n      1)\n")
    assert first.expected == "2\n" and first.rule is None
    assert _why_not_run(first) is None
    assert nested.code == "x = 1\n\n  y = 2\n" and nested.expected is None
    assert _why_not_run(nested).startswith("needs a GPU (missing: ")
    assert "no_such_module_xyz" in _why_not_run(nested)
    assert _why_not_run(files) == "a user's files" and files.expected is None

    readme = tmp_path / "README.md"
    readme.write_text(
        "<!-- skbp-doctest: skip — no network -->\n\n```python\nprint(2)\n```\n"
        "\n```text\n2\n```\n\n```bash\nls\n```\n",
        encoding="utf-8",
    )
    (block,) = page_blocks(readme)
    assert (block.code, block.expected) == ("print(2)\n", "2\n")
    assert _why_not_run(block) == "no network"

    block.rule = "skipp — typo"
    with pytest.raises(AssertionError, match="unknown comment"):
        _why_not_run(block)


def test_output_blocks_are_compared(tmp_path):
    block = Block(tmp_path / "p.rst", 1, 1, "print(0.97331)\n", "0.97...\n")
    _check_output(block, "0.97331\n")
    with pytest.raises(AssertionError, match="its output block shows"):
        _check_output(block, "0.96\n")


def test_a_block_that_leaves_a_dask_client_open_fails(tmp_path):
    pytest.importorskip("distributed")
    code = (
        "from distributed import Client, LocalCluster\n"
        "cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=':0')\n"
        "client = Client(cluster)\n"
    )
    block = Block(ROOT / "README.md", 1, 1, code)
    with pytest.raises(pytest.fail.Exception, match="left a Dask client open"):
        _execute(block, PageRun(tmp_path))
    assert _open_dask_client() is None
