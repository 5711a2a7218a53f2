"""The estimators' HTML repr links to skbp's own documentation.

In a notebook, scikit-learn draws an estimator as an HTML diagram with a "?"
link to its API page and (in recent versions) a table of its parameters,
each shown with its entry of the class docstring's Parameters section and
linked to its place on that page. The link comes from two hooks that
third-party estimators set, ``_doc_link_module`` and ``_doc_link_template``:
:class:`DocLinkMixin` points them at skbp's API reference. The descriptions
need one numpydoc entry per parameter (``skbp/_estimators/docstrings.py``).

scikit-learn forms each parameter's (and fitted attribute's) link itself: the
page, then a text fragment of the name and, as its suffix, the entry's type
line as the docstring spells it (``#:~:text=solver,-{'lbfgs', 'sgd',
'adam'}, default='adam'``). So the page must show that line verbatim:
``docs/conf.py`` keeps Sphinx's smart quotes out of the type lines, whose
quotes are Python's. ``tests/test_html_repr.py`` builds the API pages and
checks that every link lands on its entry.
"""

import re

from .. import _version

__all__ = ["DOCS_URL", "DocLinkMixin", "docs_url", "docs_version"]

#: Root of the documentation of each skbp version: ``{version}`` is a
#: release's major.minor (``"0.1"``) or ``"dev"`` for a development version,
#: as in scikit-learn's links. The address the Sphinx site (``docs/``) is to
#: be published at; the one place to change if it is published elsewhere.
DOCS_URL = "https://skbp.readthedocs.io/en/{version}/"

#: Where Sphinx writes an estimator's page, under :data:`DOCS_URL`
#: (``docs/api.rst``: autosummary's ``:toctree: generated/``).
_API_PAGE = "generated/{estimator_module}.{estimator_name}.html"


def docs_version(version):
    """The documentation folder of an skbp version.

    Parameters
    ----------
    version : str
        A version string, such as ``skbp.__version__``.

    Returns
    -------
    str
        ``"dev"`` for a development version (``"0.2.dev0"``), else the
        release's major.minor (``"0.1"`` for ``"0.1.0"`` or ``"0.1.2rc1"``).
    """
    if "dev" in version:
        return "dev"
    match = re.match(r"(\d+)\.(\d+)", version)
    if match is None:
        raise ValueError(f"Cannot read major.minor from version {version!r}.")
    return f"{match[1]}.{match[2]}"


def docs_url(version=None):
    """Root URL of the documentation of an skbp version.

    Parameters
    ----------
    version : str, optional
        Default: the running skbp's ``__version__``.

    Returns
    -------
    str
        :data:`DOCS_URL` for that version, ending with ``/``.
    """
    if version is None:
        version = _version.__version__
    return DOCS_URL.format(version=docs_version(version))


class DocLinkMixin:
    """Point an estimator's HTML repr at its page of skbp's API reference.

    scikit-learn's ``_get_doc_link`` fills the template with the public
    module (``skbp``) and the class name: ``generated/skbp.BPClassifier.html``
    under :func:`docs_url`. Put before ``BaseEstimator`` in the bases, whose
    hooks point at scikit-learn's site. As there, assigning
    ``_doc_link_template`` on an instance overrides it for that instance.
    """

    _doc_link_module = "skbp"

    @property
    def _doc_link_template(self):
        return getattr(self, "__doc_link_template", docs_url() + _API_PAGE)

    @_doc_link_template.setter
    def _doc_link_template(self, value):
        setattr(self, "__doc_link_template", value)
