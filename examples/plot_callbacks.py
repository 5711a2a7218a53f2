"""
Watching a fit with scikit-learn's callbacks
============================================

scikit-learn 1.9 lets an estimator report its fit, step by step, to
*callbacks* set with ``set_callbacks``: ``sklearn.callback.ScoringMonitor``
records scores, ``sklearn.callback.ProgressBar`` draws progress bars,
and a class of your own can do anything else, such as stop the fit.

A fit is a tree of *tasks*. For :class:`skbp.BPClassifier` and
:class:`skbp.BPRegressor` the root task is ``"fit"``, with one subtask per
``"epoch"`` (``solver="sgd"`` or ``"adam"``) or per L-BFGS ``"lbfgs-iter"``
(``solver="lbfgs"``). Inside a meta-estimator (a
:class:`~sklearn.pipeline.Pipeline`, a
:class:`~sklearn.model_selection.GridSearchCV`) that tree becomes a branch of
the meta-estimator's.

Callbacks need scikit-learn 1.9 or later; with older versions skbp fits as
usual and ``set_callbacks`` does not exist.
"""

import warnings
from collections import defaultdict

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
from sklearn.callback import ScoringMonitor
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
# Scaled once, up front, so that the callbacks below can score the test rows
# as the network sees them.
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)


# %%
# A score after every epoch
# -------------------------
# ``ScoringMonitor`` calls its scorers after every task, on the data given to
# ``fit``: here the training accuracy. A scorer is any callable
# ``scorer(estimator, X, y)``, so one that ignores ``X`` and ``y`` and reads
# rows of its own records the test accuracy too.
def test_accuracy(estimator, X, y):
    """Accuracy of ``estimator`` on the test rows (``X`` and ``y`` unused)."""
    return estimator.score(X_test, y_test)


def scores_per_step(monitor, step, name):
    """The ``name`` scores of the ``step`` tasks ("epoch" or "lbfgs-iter") of
    the last run of ``monitor``, in order."""
    rows = [row for row in monitor.get_logs().data if row["task_name"] == step]
    return [row[name] for row in sorted(rows, key=lambda row: row["task_id"])]


scoring = {"training": "accuracy", "test": test_accuracy}
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
for ax, solver, step in zip(axes, ("adam", "lbfgs"), ("epoch", "lbfgs-iter")):
    monitor = ScoringMonitor(scoring=scoring)
    clf = BPClassifier(
        hidden_layer_sizes=(32,), solver=solver, max_iter=60, random_state=0
    )
    clf.set_callbacks(monitor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    for name in scoring:
        scores = scores_per_step(monitor, step, name)
        ax.plot(range(1, len(scores) + 1), scores, label=f"{name} accuracy")
    print(
        f"{solver}: {clf.n_iter_} {step}s logged, "
        f"test accuracy {clf.score(X_test, y_test):.3f}"
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(step.capitalize())
    ax.set_title(f'solver="{solver}"')
axes[0].set_ylabel("Accuracy")
axes[0].legend(loc="lower right")
fig.tight_layout()

# %%
# Each row of ``get_logs().data`` is a dict: the task (``task_name``,
# ``task_id``, its place in the tree ``task_id_path``) and one value per
# score. The root task ``"fit"`` is scored too, on the final model.
log = monitor.get_logs()
for row in log.data[:3]:
    print({key: row[key] for key in ("task_id_path", "task_name", "training")})


# %%
# Inside a grid search
# --------------------
# A callback set on the network still sees its fits when a
# :class:`~sklearn.pipeline.Pipeline` in a
# :class:`~sklearn.model_selection.GridSearchCV` clones and fits it: every
# fit of the search reports to the same monitor, as one *run* (one call to
# the outermost ``fit``). The epochs of one fit share their parent task,
# ``parent_task_id_path``. The search numbers its fits candidate by
# candidate, split by split (the third id of the path); the refit on all the
# rows comes last, on its own branch.
monitor = ScoringMonitor(scoring="accuracy")
net = BPClassifier(hidden_layer_sizes=(32,), max_iter=20, random_state=0)
search = GridSearchCV(
    make_pipeline(StandardScaler(), net.set_callbacks(monitor)),
    {"bpclassifier__learning_rate_init": [0.0003, 0.003]},
    cv=2,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X, y)

log = monitor.get_logs()
curves = defaultdict(list)
for row in sorted(log.data, key=lambda row: row["task_id_path"]):
    if row["task_name"] == "epoch":
        curves[row["parent_task_id_path"]].append(row["accuracy"])
print(f"one run ({log.estimator_name}), {len(curves)} fits of the network")

rates = search.cv_results_["param_bpclassifier__learning_rate_init"]
fig, ax = plt.subplots(figsize=(6, 3.5))
for path, scores in curves.items():
    if path[1] == 0:  # the search: (root, search, fit number, pipeline step)
        candidate, split = divmod(path[2], search.n_splits_)
        style = {"color": f"C{candidate}", "alpha": 0.6}
        label = f"learning_rate_init={rates[candidate]}" if split == 0 else None
    else:  # the refit with the best parameters
        style = {"color": "black", "linewidth": 2}
        label = "refit with the best"
    ax.plot(range(1, len(scores) + 1), scores, label=label, **style)
ax.xaxis.set_major_locator(MaxNLocator(integer=True))
ax.set_xlabel("Epoch")
ax.set_ylabel("Training accuracy")
ax.set_title("Every fit of a grid search, one monitor")
ax.legend(loc="lower right")
fig.tight_layout()

# %%
# Progress bars
# -------------
# ``ProgressBar`` draws a bar per task with subtasks: here one for the
# epochs of the fit. Set on a meta-estimator, it reaches the estimators
# inside, down to ``max_propagation_depth`` levels. It needs the ``rich``
# package; in a terminal the bars move, elsewhere (as on this page) only
# their final state is printed.
try:
    from sklearn.callback import ProgressBar

    bar = ProgressBar()
except ImportError:  # rich is not installed
    print("ProgressBar needs rich: pip install rich")
else:
    clf = BPClassifier(hidden_layer_sizes=(32,), max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.set_callbacks(bar).fit(X_train, y_train)


# %%
# A callback of your own: stop at a target accuracy
# -------------------------------------------------
# A callback is a class with four methods. ``setup`` and ``teardown`` are
# called around each fit, ``on_fit_task_begin`` and ``on_fit_task_end``
# around each task. The hooks ask for what they need by keyword:
# ``fitted_estimator`` is a copy of the network as it stands at the end of
# the task, ready to predict. When ``on_fit_task_end`` returns True, the fit
# stops after that epoch, as it does on convergence (with no
# ``ConvergenceWarning``).
#
# This one stops once the accuracy on rows of its own reaches a target. The
# same pattern stops on a validation loss
# (``sklearn.metrics.log_loss`` of ``fitted_estimator.predict_proba``),
# or after so many seconds.
class StopAtAccuracy:
    """Stop training once the accuracy on ``X``, ``y`` reaches ``target``."""

    def __init__(self, target, X, y):
        self.target, self.X, self.y = target, X, y
        self.scores = []

    def setup(self, estimator, context):
        self.scores = []  # a new fit, a new record

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        # The root task ("fit") ends too, and an L-BFGS iteration cut short
        # comes without a model: only complete steps count.
        if context.task_name not in ("epoch", "lbfgs-iter") or fitted_estimator is None:
            return False
        self.scores.append(fitted_estimator.score(self.X, self.y))
        return self.scores[-1] >= self.target


X_fit, X_val, y_fit, y_val = train_test_split(
    X_train, y_train, test_size=0.25, stratify=y_train, random_state=0
)
params = dict(hidden_layer_sizes=(32,), max_iter=100, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    full = BPClassifier(**params).fit(X_fit, y_fit)
stopper = StopAtAccuracy(0.9, X_val, y_val)
stopped = BPClassifier(**params).set_callbacks(stopper).fit(X_fit, y_fit)
print(
    f"without the callback: {full.n_iter_} epochs, "
    f"validation accuracy {full.score(X_val, y_val):.3f}"
)
print(
    f"stopped at accuracy 0.9: {stopped.n_iter_} epochs, "
    f"validation accuracy {stopped.score(X_val, y_val):.3f}"
)
print(f"the callback scored {len(stopper.scores)} epochs")
plt.show()
