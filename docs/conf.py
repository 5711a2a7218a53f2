"""Sphinx configuration of the skbp documentation.

Build (from the repository root, with ``pip install -e ".[docs]"``)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Generated, git-ignored: ``docs/_build`` (the site), ``docs/auto_examples``
(sphinx-gallery's pages for ``examples/*.py``), ``docs/generated`` (the API
pages written by autosummary), ``docs/_core_api.rst`` (the list of
``skbp.core``'s public names, written below) and
``docs/sg_execution_times.rst`` (sphinx-gallery's timings). The build needs
no network access: the intersphinx inventories are written from the table
below.
"""

import importlib
import pkgutil
import re
import sys
import zlib
from pathlib import Path

from docutils import nodes
from sphinx.pycode import ModuleAnalyzer
from sphinx.transforms import SphinxTransform
from threadpoolctl import threadpool_limits

DOCS = Path(__file__).resolve().parent
# Document (and run the examples against) this working tree, whatever skbp
# is installed.
sys.path.insert(0, str(DOCS.parent))

import skbp  # noqa: E402
import skbp.core  # noqa: E402

# sphinx-gallery runs every example inside this process. Their matrices are
# small: on a 2-core machine shared with other work, two BLAS threads mostly
# wait for each other, which made single examples up to ten times slower.
# threadpoolctl is a dependency of scikit-learn.
threadpool_limits(limits=1, user_api="blas")

# -- Project -----------------------------------------------------------------
project = "skbp"
author = "The skbp developers"
copyright = "The skbp developers"  # noqa: A001 (Sphinx's name)
release = skbp.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",  # [source] links: from a formula to its numpy
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_core_api.rst",  # included by api.rst
    "benchmarks_table.rst",  # included by comparison.rst
    "Thumbs.db",
    ".DS_Store",
]
default_role = "literal"
# Every cross-reference must resolve (with -W, an unresolved one fails the
# build): a formula's link to its function cannot silently go dead. A name
# that cannot be documented here goes in nitpick_ignore, with its reason.
nitpicky = True
nitpick_ignore = [
    # Loss.output_activation is a class attribute with no docstring, so
    # autodoc does not document it; Loss's docstring refers to it.
    ("py:attr", "output_activation"),
]
pygments_style = "sphinx"
pygments_dark_style = "monokai"

# -- autodoc / autosummary / numpydoc ----------------------------------------
# api.rst and the core listing it includes (see _write_core_api below).
autosummary_generate = ["api.rst", "_core_api.rst"]
autodoc_typehints = "none"
# Source order: forward before derivative before backward, fit before
# predict, as the code reads.
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skbp {release}"
html_static_path = ["_static"]
html_css_files = ["skbp.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 7,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
# Pages without subpages: no (empty) section navigation on the left.
html_sidebars = {
    page: []
    for page in ("index", "getting_started", "backprop", "comparison", "changelog")
}

# -- sphinx-gallery ----------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skbp",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skbp": None},
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "show_memory": False,
    "plot_gallery": "True",
    "download_all_examples": False,
}

# -- intersphinx, offline ----------------------------------------------------
# Sphinx's intersphinx normally downloads each project's objects.inv. To build
# without network access, the few external names these pages refer to are
# listed here and written into local inventories at build time; the links
# still point at the projects' published documentation.
_EXTERNAL = {
    "sklearn": (
        "scikit-learn",
        "https://scikit-learn.org/stable/",
        {
            "py:class": [
                "sklearn.neural_network.MLPClassifier",
                "sklearn.neural_network.MLPRegressor",
                "sklearn.pipeline.Pipeline",
                "sklearn.model_selection.GridSearchCV",
                "sklearn.preprocessing.StandardScaler",
                "sklearn.metrics.RocCurveDisplay",
                "sklearn.inspection.DecisionBoundaryDisplay",
                "sklearn.exceptions.NotFittedError",
                "sklearn.exceptions.ConvergenceWarning",
                "sklearn.multioutput.MultiOutputRegressor",
                "sklearn.utils.metadata_routing.MetadataRequest",
                "sklearn.callback.ProgressBar",
                "sklearn.callback.ScoringMonitor",
                "sklearn.linear_model.LogisticRegression",
                "sklearn.ensemble.HistGradientBoostingClassifier",
                "sklearn.ensemble.HistGradientBoostingRegressor",
            ],
            "py:function": [
                "sklearn.pipeline.make_pipeline",
                "sklearn.model_selection.cross_validate",
                "sklearn.model_selection.train_test_split",
                "sklearn.base.clone",
                "sklearn.utils.estimator_checks.check_estimator",
                "sklearn.metrics.accuracy_score",
                "sklearn.metrics.r2_score",
                "sklearn.metrics.mean_pinball_loss",
                "sklearn.datasets.load_digits",
                "sklearn.datasets.load_breast_cancer",
                "sklearn.datasets.load_iris",
                "sklearn.datasets.load_wine",
                "sklearn.set_config",
                "sklearn.show_versions",
                "sklearn.utils.class_weight.compute_class_weight",
                "sklearn.utils.class_weight.compute_sample_weight",
            ],
        },
        "modules/generated/{name}.html#{name}",
    ),
    "numpy": (
        "NumPy",
        "https://numpy.org/doc/stable/",
        {"py:class": ["numpy.ndarray"]},
        "reference/generated/{name}.html#{name}",
    ),
    "scipy": (
        "SciPy",
        "https://docs.scipy.org/doc/scipy/",
        {
            "py:function": ["scipy.optimize.minimize"],
            "py:class": ["scipy.optimize.OptimizeResult"],
        },
        "reference/generated/{name}.html#{name}",
    ),
    "matplotlib": (
        "Matplotlib",
        "https://matplotlib.org/stable/",
        {
            "py:class": [
                "matplotlib.axes.Axes",
                "matplotlib.lines.Line2D",
                "matplotlib.figure.Figure",
            ],
            "py:method": [
                "matplotlib.axes.Axes.plot",
                "matplotlib.axes.Axes.twinx",
            ],
        },
        "api/_as_gen/{name}.html#{name}",
    ),
}
# matplotlib documents Figure on its figure_api page, not on its own page.
_URL_OVERRIDES = {
    "matplotlib.figure.Figure": "api/figure_api.html#matplotlib.figure.Figure",
}


def _write_inventory(path, project_name, entries, pattern):
    """Write a Sphinx (version 2) objects.inv listing ``entries``."""
    lines = []
    for role, names in entries.items():
        for name in names:
            uri = _URL_OVERRIDES.get(name, pattern.format(name=name))
            lines.append(f"{name} {role} 1 {uri} -\n")
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project_name}\n"
        "# Version: stable\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.encode() + zlib.compress("".join(lines).encode()))


intersphinx_mapping = {}
for _key, (_name, _url, _entries, _pattern) in _EXTERNAL.items():
    _inventory = DOCS / "_build" / "intersphinx" / f"{_key}.inv"
    _write_inventory(_inventory, _name, _entries, _pattern)
    intersphinx_mapping[_key] = (_url, str(_inventory))
intersphinx_disabled_reftypes = ["std:*"]

# -- Cross-references to skbp.core ------------------------------------------
# The API reference documents the core under its public path, ``skbp.core.X``
# (what ``from skbp.core import X`` gives). The core's own docstrings also say
# where each name is defined (``skbp.core.layers.linear_backward``): resolve
# those to the public page. The submodules are found, not listed, so a module
# added to the core needs no change here.
_CORE_MODULES = tuple(
    info.name
    for info in pkgutil.iter_modules(skbp.core.__path__)
    if not info.name.startswith("_")
)
_DEFINED_IN_CORE = re.compile(
    r"^skbp\.core\.(?:" + "|".join(_CORE_MODULES) + r")\.(?P<rest>[A-Za-z_].*)$"
)


def _resolve_core_path(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    match = _DEFINED_IN_CORE.match(target)
    if match is not None:
        public = "skbp.core." + match["rest"]
    elif (node.get("py:module") or "").startswith("skbp.core."):
        # A short name in a core module's docstring (``Loss.gradient`` in
        # skbp.core.losses): the name as skbp.core exports it.
        public = "skbp.core." + target
    else:
        return None
    domain = env.domains["py"]
    node = node.deepcopy()
    node["reftarget"] = public
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], public, node, contnode
    )


# -- The core's API listing, written from skbp.core.__all__ ------------------
# api.rst includes _core_api.rst: one section per core module, in the order
# a batch meets them, each listing (autosummary) every public name of
# skbp.core that the module defines. Written from ``__all__`` at build time
# (git-ignored), so a name added to the core is documented without editing
# api.rst, and none can be forgotten. It sits beside api.rst because
# autosummary reads ``:toctree:`` relative to the file when it writes the
# stub pages, and relative to the including document when it links them.
_CORE_ORDER = (
    "namespace",
    "activations",
    "losses",
    "regularization",
    "layers",
    "dropout",
    "network",
    "layout",
    "optimizers",
    "lbfgs",
    "gradient_check",
    "workspace",
)
_CORE_TITLES = {
    "namespace": "Array namespaces",
    "layout": "Parameter layout",
    "lbfgs": "L-BFGS",
    "gradient_check": "Gradient check",
}


def _defining_module(name):
    """The core submodule that defines ``skbp.core.<name>``."""
    obj = getattr(skbp.core, name)
    module = getattr(obj, "__module__", None)
    if isinstance(module, str) and module.startswith("skbp.core."):
        return module.rsplit(".", 1)[1]
    # Data (a dict, a tuple): the submodule holding the same object.
    for submodule in _CORE_MODULES:
        if (
            getattr(importlib.import_module(f"skbp.core.{submodule}"), name, None)
            is obj
        ):
            return submodule
    raise ValueError(f"cannot tell which skbp.core module defines {name!r}")


def _is_module(obj):
    return isinstance(obj, type(sys))


def _write_core_api(path):
    by_module = {}
    for name in skbp.core.__all__:
        by_module.setdefault(_defining_module(name), []).append(name)
    for module, names in by_module.items():
        # In the order the module itself lists them (base class first, ...).
        listed = list(
            getattr(importlib.import_module(f"skbp.core.{module}"), "__all__", [])
        )
        names.sort(key=lambda n: listed.index(n) if n in listed else len(listed))
    order = [m for m in _CORE_ORDER if m in by_module]
    order += sorted(set(by_module) - set(order))
    lines = []
    for module in order:
        title = _CORE_TITLES.get(module, module.replace("_", " ").capitalize())
        lines += [title, "-" * len(title), ""]
        lines += [f".. automodule:: skbp.core.{module}"]
        if module in skbp.core.__all__:
            # skbp.core.gradient_check is both a module and its function:
            # only the function gets the name's link target.
            lines += ["   :no-index:"]
        lines += [""]
        lines += [".. currentmodule:: skbp.core", ""]
        # A module object (NUMPY, numpy's namespace) is data here, not a
        # module whose members autosummary would list: documented in place.
        data = [n for n in by_module[module] if _is_module(getattr(skbp.core, n))]
        lines += [
            ".. autosummary::",
            "   :toctree: generated/",
            "   :nosignatures:",
            "",
        ]
        lines += [f"   {name}" for name in by_module[module] if name not in data]
        lines += [""]
        for name in data:
            lines += [f".. autodata:: {name}", "   :no-value:", ""]
    text = "\n".join(lines)
    if not path.exists() or path.read_text() != text:  # keep rebuilds incremental
        path.write_text(text)


_write_core_api(DOCS / "_core_api.rst")


# -- Docstrings inherited from scikit-learn ----------------------------------
# The estimators inherit get_params, score, set_fit_request, ... from
# scikit-learn, whose docstrings refer to labels and glossary terms of
# scikit-learn's own site (:ref:`metadata_routing`, :term:`meta-estimator`).
# Keep their text, drop the links that cannot resolve here.
_FOREIGN_ROLE = re.compile(r":(?:ref|term):`(?:([^`<]*?)\s*<[^`>]*>|([^`]*))`")


def _unlink_sklearn_roles(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith("sklearn"):
        return
    for i, line in enumerate(lines):
        lines[i] = _FOREIGN_ROLE.sub(lambda m: m[1] or m[2], line)


def _core_data_doc(app, what, name, obj, options, lines):
    """Docstring of the data ``skbp.core.X``: the ``#:`` comment above X.

    autodoc looks for that comment in ``skbp.core`` itself, which only
    re-exports X, and falls back to the docstring of X's type (``tuple``).
    """
    if what != "data" or not name.startswith("skbp.core."):
        return
    attr = name.rsplit(".", 1)[1]
    for module in _CORE_MODULES:
        modname = f"skbp.core.{module}"
        if getattr(importlib.import_module(modname), attr, None) is obj:
            comment = ModuleAnalyzer.for_module(modname).find_attr_docs()
            if ("", attr) in comment:
                lines[:] = [*comment["", attr], f"Defined in ``{modname}``.", ""]
            return


# -- Parameter types keep their straight quotes ------------------------------
# An estimator's HTML repr links each parameter to its entry on the API page
# with a text fragment that scikit-learn forms from the docstring's type line
# (``#:~:text=solver,-{'lbfgs', 'sgd', 'adam'}, default='adam'``). Sphinx's
# smart quotes would render that line with curly quotes, which the fragment
# does not match. The quotes there are Python's string literals, as a reader
# copies them: numpydoc's type lines (docutils' classifiers) keep them.
class _StraightQuotesInTypes(SphinxTransform):
    default_priority = 700  # before SphinxSmartQuotes (750)

    def apply(self, **kwargs):
        for node in self.document.findall(nodes.classifier):
            node["support_smartquotes"] = False


def setup(app):
    app.add_transform(_StraightQuotesInTypes)
    app.connect("missing-reference", _resolve_core_path)
    app.connect("autodoc-process-docstring", _unlink_sklearn_roles)
    # Before numpydoc (priority 500) reformats the docstring.
    app.connect("autodoc-process-docstring", _core_data_doc, priority=100)
