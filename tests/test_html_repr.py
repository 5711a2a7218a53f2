"""The HTML repr (a notebook's display): links to skbp's API pages, and a
description for every parameter (issue 16).

The descriptions and per-parameter links are read through scikit-learn's own
private helpers, which older versions (the floor is 1.7) lack: those tests
skip there, and run on the versions that have them.
"""

import html
import importlib
import re
from pathlib import Path
from urllib.parse import quote

import pytest
import sklearn
from sklearn.utils import estimator_html_repr

import skbp
import skbp._version
from skbp import BPClassifier, BPRegressor
from skbp._estimators.html_repr import DOCS_URL, docs_version

ESTIMATORS = [BPClassifier, BPRegressor]
API_RST = Path(__file__).resolve().parents[1] / "docs" / "api.rst"


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


def test_api_pages_are_where_the_link_points():
    # docs/api.rst documents the estimators as skbp.X with autosummary pages
    # in generated/: the page of _expected_link.
    text = API_RST.read_text()
    section = text.split("Estimators\n==========")[1].split("\n=")[0]
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
