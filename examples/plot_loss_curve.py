"""
Watching a network train with ``LossCurveDisplay``
==================================================

Every fitted :class:`skbp.BPRegressor` and :class:`skbp.BPClassifier` keeps
its training loss after each iteration in ``loss_curve_`` and, when fitted
with ``early_stopping=True``, the score on the held-out validation set in
``validation_scores_``. :class:`skbp.inspection.LossCurveDisplay` draws
both, the score on a second y axis, following scikit-learn's display
convention (``from_estimator``, then ``ax_``, ``line_``, ... to adjust the
figure).
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier
from skbp.inspection import LossCurveDisplay

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

# %%
# Early stopping holds out ``validation_fraction`` of the training rows
# (stratified by class) and stops once the validation accuracy has not
# improved by ``tol`` for ``n_iter_no_change`` epochs. The weights of the
# best epoch are the ones kept.
model = make_pipeline(
    StandardScaler(),
    BPClassifier(
        hidden_layer_sizes=(64,),
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=10,
        max_iter=300,
        random_state=0,
    ),
)
model.fit(X_train, y_train)
clf = model[-1]
best_epoch = int(np.argmax(clf.validation_scores_)) + 1
print(f"stopped after {clf.n_iter_} epochs; best epoch {best_epoch}")
print(f"best validation accuracy: {clf.best_validation_score_:.3f}")
print(f"test accuracy:            {model.score(X_test, y_test):.3f}")

# %%
# ``from_estimator`` accepts the pipeline and reads its last step. The
# training loss keeps falling while the validation accuracy levels off: the
# dotted line marks the epoch whose weights early stopping kept.
display = LossCurveDisplay.from_estimator(model)
display.validation_ax_.axvline(best_epoch, color="grey", linestyle=":")
display.ax_.set_title("BPClassifier on digits, early stopping")
display.figure_.tight_layout()

# %%
# Comparing solvers
# -----------------
# Several displays can share one axes. Unlike scikit-learn's MLP, skbp also
# records ``loss_curve_`` for ``solver="lbfgs"`` (one point per L-BFGS
# iteration rather than per epoch), so the three solvers can be drawn side by
# side. A log scale shows the late progress.
fig, ax = plt.subplots()
for solver in ("adam", "sgd", "lbfgs"):
    estimator = make_pipeline(
        StandardScaler(),
        BPClassifier(
            hidden_layer_sizes=(64,),
            solver=solver,
            learning_rate_init=0.01 if solver == "sgd" else 0.001,
            max_iter=100,
            random_state=0,
        ),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X_train, y_train)
    LossCurveDisplay.from_estimator(estimator, ax=ax, name=solver)
    print(f"{solver:>5}: test accuracy {estimator.score(X_test, y_test):.3f}")
ax.set_yscale("log")
ax.set_title("Training loss of each solver")
fig.tight_layout()
plt.show()
