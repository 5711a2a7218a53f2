"""The HTML repr (a notebook's display): links to skbp's API pages, and a
description for every parameter (issue 16), that land on the parameter's
entry of the built page (issue 27).

The descriptions and per-parameter links are read through scikit-learn's own
private helpers, which older versions (the floor is 1.7) lack: those tests
skip there, and run on the versions that have them. The built-page test needs
the docs extra (Sphinx): it skips without it, and ``.ci/run`` runs it after
installing that extra.
"""

import html
import importlib
import importlib.util
import re
import subprocess
import sys
import warnings
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import estimator_html_repr

import skbp
import skbp._version
from skbp import BPClassifier, BPRegressor
from skbp._estimators.html_repr import DOCS_URL, docs_url, docs_version

ESTIMATORS = [BPClassifier, BPRegressor]
DOCS = Path(__file__).resolve().parents[1] / "docs"
API_RST = DOCS / "api.rst"


def _sklearn_helper(name):
    """``sklearn.utils._repr_html.common.<name>``, or skip where it is missing."""
    try:
        module = importlib.import_module("sklearn.utils._repr_html.common")
    except ImportError:
        module = None
    helper = getattr(module, name, None)
    if helper is None:
        pytest.skip(
            f"scikit-learn {sklearn.__version__} has no "
            f"sklearn.utils._repr_html.common.{name}"
        )
    return helper


def _sklearn_at_least(major, minor):
    found = tuple(int(part) for part in re.findall(r"\d+", sklearn.__version__)[:2])
    return found >= (major, minor)


def _expected_link(cls):
    """The API page Sphinx writes for ``cls``, spelled out here."""
    version = skbp.__version__
    folder = "dev" if "dev" in version else ".".join(version.split(".")[:2])
    return DOCS_URL.format(version=folder) + f"generated/skbp.{cls.__name__}.html"


# ---------------------------------------------------------------------------
# The "?" link
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_doc_link_is_skbps_own_api_page(cls):
    link = cls()._get_doc_link()
    assert link == _expected_link(cls)
    assert not link.startswith("https://scikit-learn.org")


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_html_repr_links_to_the_api_page(cls):
    assert f'href="{_expected_link(cls)}"' in estimator_html_repr(cls())


def test_doc_link_follows_the_version(monkeypatch):
    # As scikit-learn's: a release's major.minor, "dev" for a dev version.
    monkeypatch.setattr(skbp._version, "__version__", "1.2.3")
    assert "/1.2/generated/skbp.BPRegressor.html" in BPRegressor()._get_doc_link()
    monkeypatch.setattr(skbp._version, "__version__", "0.3.dev0")
    assert "/dev/generated/skbp.BPRegressor.html" in BPRegressor()._get_doc_link()


@pytest.mark.parametrize(
    ("version", "folder"),
    [("0.1.0", "0.1"), ("0.1.2rc1", "0.1"), ("10.20.3", "10.20"), ("0.2.dev0", "dev")],
)
def test_docs_version(version, folder):
    assert docs_version(version) == folder


def test_docs_version_refuses_an_unreadable_version():
    with pytest.raises(ValueError, match="major.minor"):
        docs_version("unknown")


def test_doc_link_template_can_be_set_on_an_instance():
    # scikit-learn's documented override works on skbp's estimators too.
    est = BPClassifier()
    est._doc_link_template = "https://example.org/{estimator_name}.html"
    assert est._get_doc_link() == "https://example.org/BPClassifier.html"
    assert BPClassifier()._get_doc_link() == _expected_link(BPClassifier)


def _api_section(title):
    """The text of ``docs/api.rst``'s section ``title``, up to the next one."""
    found = re.search(
        rf"^{title}\n=+\n(.*?)(?=^[^\n]+\n=+\n|\Z)",
        API_RST.read_text(),
        flags=re.MULTILINE | re.DOTALL,
    )
    assert found is not None, f"docs/api.rst has no section {title!r}"
    return found[1]


def test_api_pages_are_where_the_link_points():
    # docs/api.rst documents the estimators as skbp.X with autosummary pages
    # in generated/: the page of _expected_link.
    section = _api_section("Estimators")
    assert ".. currentmodule:: skbp\n" in section
    assert ":toctree: generated/" in section
    for cls in ESTIMATORS:
        assert f"\n   {cls.__name__}\n" in section


# ---------------------------------------------------------------------------
# One description, and one link, per parameter
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_every_parameter_has_a_description(cls):
    get_docstring = _sklearn_helper("get_docstring")
    for name in cls().get_params():
        description = get_docstring(cls, "Parameters", name)
        assert description is not None, f"{cls.__name__}({name}=) is not described"
        assert description.startswith(f"{name}: ")


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_every_parameter_links_to_its_own_entry(cls):
    generate_link = _sklearn_helper("generate_link_to_param_doc")
    get_docstring = _sklearn_helper("get_docstring")
    page = _expected_link(cls)
    for name in cls().get_params():
        link = generate_link(cls, name, page)
        assert link is not None, f"{cls.__name__}({name}=) gets no link"
        # The text fragment is the entry's own "name : type" line, not an
        # earlier line that merely ends with the name (as nesterovs_momentum
        # would for momentum, were it listed first).
        entry_type = html.unescape(get_docstring(cls, "Parameters", name))
        entry_type = entry_type.split("<br>")[0].split(": ", 1)[1]
        fragment = f"{quote(name)},-{quote(entry_type.replace('`', ''))}"
        assert link == f"{page}#:~:text={fragment}"


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_html_repr_shows_every_parameter_with_its_link(cls):
    _sklearn_helper("generate_link_to_param_doc")
    est = cls()
    shown = estimator_html_repr(est)
    assert shown.count('class="param-doc-link"') == len(est.get_params())
    for name in est.get_params():
        assert f'href="{_expected_link(cls)}#:~:text={quote(name)},-' in shown


def test_helpers_are_there_on_the_tested_scikit_learn():
    # The skips above are for old versions only: 1.9 has both helpers.
    if not _sklearn_at_least(1, 9):
        pytest.skip(f"scikit-learn {sklearn.__version__} is older than 1.9")
    assert callable(_sklearn_helper("get_docstring"))
    assert callable(_sklearn_helper("generate_link_to_param_doc"))


# ---------------------------------------------------------------------------
# The links land on the parameter of the built page
# ---------------------------------------------------------------------------
#
# A link's text fragment (``#:~:text=solver,-{'lbfgs', ...}``) scrolls the
# browser to the first place on the page where its text is found. The
# functions below emulate the text-fragment search loosely, and more
# strictly than a browser where they differ:
#
# - the page's text is read block by block (a ``<dt>``, a ``<p>``, ...), its
#   whitespace collapsed, script and style left out; a match lies in one
#   block (a browser may let the suffix run into the next);
# - ``prefix-``, ``textStart``, ``,textEnd`` and ``,-suffix`` are matched
#   case-insensitively, character for character: no folding of curly quotes
#   into straight ones, which some browsers do and others don't;
# - the prefix and textStart start at a word boundary; the match ends at one
#   (the suffix's end, or textStart's with neither suffix nor textEnd); the
#   prefix, textStart, textEnd and suffix follow each other with only
#   whitespace between them (any text before textEnd).
#
# A link lands on the parameter when the first match is the ``<dt>`` of the
# entry of that name (numpydoc's ``<strong>name</strong>`` and its type).

_BLOCKS = {
    "address", "article", "aside", "blockquote", "body", "br", "dd", "details",
    "div", "dl", "dt", "figcaption", "figure", "footer", "form", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol",
    "p", "pre", "section", "summary", "table", "td", "th", "tr", "ul",
}  # fmt: skip
_UNSHOWN = {"head", "script", "style", "template"}


class _PageBlocks(HTMLParser):
    """A page's text as ``(tag, entry, text)`` blocks, in document order.

    ``entry`` is the text of a ``<dt>``'s first ``<strong>`` (the name of a
    numpydoc entry), else None.
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks = []
        self._tag, self._entry, self._text = None, None, []
        self._unshown, self._in_strong = 0, False

    def _end_block(self):
        text = " ".join("".join(self._text).split())
        if text:
            self.blocks.append((self._tag, self._entry, text))
        self._entry, self._text = None, []

    def handle_starttag(self, tag, attrs):
        if tag in _UNSHOWN:
            self._unshown += 1
        elif tag in _BLOCKS:
            self._end_block()
            self._tag = tag
        elif tag == "strong" and self._tag == "dt" and self._entry is None:
            self._entry, self._in_strong = "", True

    def handle_endtag(self, tag):
        if tag in _UNSHOWN:
            self._unshown -= 1
        elif tag in _BLOCKS:
            self._end_block()
            self._tag = None
        elif tag == "strong":
            self._in_strong = False

    def handle_data(self, data):
        if not self._unshown:
            self._text.append(data)
            if self._in_strong:
                self._entry += data


def _page_blocks(page_html):
    parser = _PageBlocks()
    parser.feed(page_html)
    parser.close()
    parser._end_block()
    return parser.blocks


def _text_directive(fragment):
    """The terms of ``:~:text=[prefix-,]start[,end][,-suffix]``.

    ``(prefix, start, end, suffix)``, percent-decoded; None where absent.
    """
    assert fragment.startswith(":~:text="), fragment
    terms = fragment.removeprefix(":~:text=").split(",")
    prefix = unquote(terms.pop(0)[:-1]) if terms[0].endswith("-") else None
    suffix = unquote(terms.pop()[1:]) if terms[-1].startswith("-") else None
    assert len(terms) in (1, 2), f"not a text directive: {fragment!r}"
    end = unquote(terms[1]) if len(terms) == 2 else None
    return prefix, unquote(terms[0]), end, suffix


def _is_word_character(char):
    return char.isalnum() or char == "_"


def _at_word_boundary(text, i):
    """Whether position ``i`` of ``text`` is between words (or at an end)."""
    if i <= 0 or i >= len(text):
        return True
    return not (_is_word_character(text[i - 1]) and _is_word_character(text[i]))


def _matches_at(text, i, prefix, start, end, suffix):
    """Whether the directive matches ``text`` (lower case) with textStart at i."""
    if not _at_word_boundary(text, i):
        return False
    if prefix is not None:
        before = text[:i].rstrip()
        if not (
            before.endswith(prefix)
            and _at_word_boundary(before, len(before) - len(prefix))
        ):
            return False
    j = i + len(start)
    # Without a suffix (or with a textEnd), textStart is a whole word.
    if (suffix is None or end is not None) and not _at_word_boundary(text, j):
        return False
    if end is not None:
        k = text.find(end, j)
        if k == -1:
            return False
        j = k + len(end)
    if suffix is not None:
        rest = text[j:].lstrip()
        if not rest.startswith(suffix):
            return False
        j = len(text) - len(rest) + len(suffix)
    return _at_word_boundary(text, j)


def _first_match(blocks, fragment):
    """The block where the fragment's first match lies, or None."""
    prefix, start, end, suffix = (
        None if term is None else term.lower() for term in _text_directive(fragment)
    )
    for block in blocks:
        text = block[2].lower()
        i = text.find(start)
        while i != -1:
            if _matches_at(text, i, prefix, start, end, suffix):
                return block
            i = text.find(start, i + 1)
    return None


@pytest.mark.parametrize(
    ("page", "fragment", "lands_on"),
    [
        # The suffix passes over an earlier mention of the name.
        (
            "<p>The solver is</p><dl><dt><strong>solver</strong>"
            "<span>{'a', 'b'}</span></dt></dl>",
            ":~:text=solver,-%7B'a'%2C%20'b'%7D",
            ("dt", "solver"),
        ),
        # Curly quotes on the page do not match straight ones.
        (
            "<dl><dt><strong>solver</strong><span>{\u2018a\u2019}</span></dt></dl>",
            ":~:text=solver,-%7B'a'%7D",
            None,
        ),
        # textStart starts a word: not the end of nesterovs_momentum.
        (
            "<dl><dt><strong>nesterovs_momentum</strong><span>bool</span></dt>"
            "<dt><strong>momentum</strong><span>bool</span></dt></dl>",
            ":~:text=momentum,-bool",
            ("dt", "momentum"),
        ),
        # The suffix ends a word: "int" is not "integer".
        (
            "<dl><dt><strong>n</strong><span>integer</span></dt></dl>",
            ":~:text=n,-int",
            None,
        ),
        # A prefix, whitespace collapsed, any case; script text is not shown.
        (
            "<script>a  b</script><dl><dt><em>A</em>\n  <strong>B</strong></dt></dl>",
            ":~:text=a-,b",
            ("dt", "B"),
        ),
        # Without a suffix textStart is a whole word; a match stays in a block.
        ("<dl><dt><strong>batch_size</strong></dt></dl>", ":~:text=batch", None),
        ("<p>solver</p><p>{'a'}</p>", ":~:text=solver,-%7B'a'%7D", None),
    ],
)
def test_text_fragment_emulation(page, fragment, lands_on):
    # The emulation that the built-page test below relies on.
    landed = _first_match(_page_blocks(page), fragment)
    assert (None if landed is None else landed[:2]) == lands_on


# docs/conf.py's extensions, less sphinx-gallery (which runs every example),
# with autosummary writing the estimators' pages as the real build does.
_SPHINX_BUILD = """\
import runpy
import sys
from sphinx.application import Sphinx

source, conf, out, templates = sys.argv[1:]
extensions = [
    name for name in runpy.run_path(conf + "/conf.py")["extensions"]
    if not name.startswith("sphinx_gallery")
]
overrides = {
    "extensions": extensions,
    "templates_path": [templates],
    "autosummary_generate": True,
}
app = Sphinx(
    source, conf, out, out + "/.doctrees", "html",
    confoverrides=overrides, status=None, freshenv=True,
)
app.build()
sys.exit(app.statuscode)
"""
# sphinx-gallery's directive, in docs/_templates' autosummary templates.
_MINIGALLERY = re.compile(r"\n\.\. minigallery::.*?(?=\n\S|\Z)", flags=re.DOTALL)


@pytest.fixture(scope="module")
def built_api_pages(tmp_path_factory):
    """The estimators' API pages, built with docs/conf.py (seconds)."""
    for module in ("sphinx", "numpydoc", "pydata_sphinx_theme"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(
                f"building the API pages needs {module}, of the docs extra "
                "(pip install '.[docs]'); .ci/run runs this test after "
                "installing it"
            )
    root = tmp_path_factory.mktemp("api_pages")
    source = root / "source"
    source.mkdir()
    (source / "index.rst").write_text(
        "Estimators\n==========\n" + _api_section("Estimators")
    )
    templates = root / "templates"
    (templates / "autosummary").mkdir(parents=True)
    for template in (DOCS / "_templates" / "autosummary").glob("*.rst"):
        text = _MINIGALLERY.sub("", template.read_text())
        (templates / "autosummary" / template.name).write_text(text)
    out = root / "html"
    built = subprocess.run(
        [sys.executable, "-c", _SPHINX_BUILD, source, DOCS, out, templates],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-4000:]
    return out


def _fitted(cls):
    X = np.random.default_rng(0).random((20, 3))
    y = np.arange(20) % 2 if cls is BPClassifier else X[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(hidden_layer_sizes=(3,), max_iter=2).fit(X, y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_every_link_lands_on_its_entry_of_the_built_page(cls, built_api_pages):
    # Each link of a fitted estimator's repr (the "?", each parameter, each
    # fitted attribute) names a page of the built docs, and its text
    # fragment's first match there is that name's entry. Sphinx's smart
    # quotes in the type lines made 10 of 84 match nothing (issue 27).
    est = _fitted(cls)
    root = docs_url()
    links = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', est._repr_html_())]
    links = [link.removeprefix(root) for link in links if link.startswith(root)]
    assert links, "the repr links to no page of skbp's docs"
    pages, landed_on = {}, set()
    for link in links:
        page, _, fragment = link.partition("#")
        assert (built_api_pages / page).is_file(), f"no page {page} in the docs"
        if not fragment:
            continue
        if page not in pages:
            pages[page] = _page_blocks((built_api_pages / page).read_text())
        name = _text_directive(fragment)[1]
        landed = _first_match(pages[page], fragment)
        assert landed is not None, f"{fragment!r} matches nothing on {page}"
        assert landed[:2] == ("dt", name), f"{fragment!r} lands on {landed}"
        landed_on.add(name)
    if _sklearn_at_least(1, 9):
        # 1.9 links every parameter (and fitted attribute).
        assert set(est.get_params()) <= landed_on
