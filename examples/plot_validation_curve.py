"""
Validation loss per epoch, and validation data of your own
==========================================================

Given validation rows, :class:`skbp.BPClassifier` and
:class:`skbp.BPRegressor` record the loss on them after every epoch (or
L-BFGS iteration) in ``validation_loss_curve_``, beside the training loss of
``loss_curve_``. The rows are either your own, passed to ``fit`` as
``X_val`` and ``y_val``, or the ``validation_fraction`` that early stopping
holds out. :class:`skbp.inspection.LossCurveDisplay` draws both losses on the
same axes, on one scale: where the validation loss turns up while the
training loss keeps falling, the network has started to learn its training
rows rather than the task.

In a :class:`~sklearn.pipeline.Pipeline`, ``X_val`` must be preprocessed as
``X`` is (here, scaled with the training rows' mean and variance).
scikit-learn's way to do so is metadata routing, with
``Pipeline(..., transform_input=["X_val"])``: the pipeline passes ``X_val``
through the steps fitted on ``X`` before it reaches the network.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier
from skbp.inspection import LossCurveDisplay

# A small training set (200 of the 1797 digits, as when labels are costly),
# the other rows halved into validation and test rows.
X, y = load_digits(return_X_y=True)
X_train, X_rest, y_train, y_rest = train_test_split(
    X, y, train_size=200, stratify=y, random_state=0
)
X_val, X_test, y_val, y_test = train_test_split(
    X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=0
)
print(f"rows: {len(y_train)} to train, {len(y_val)} to validate, {len(y_test)} to test")

# %%
# Validation data through a pipeline
# ----------------------------------
# The network asks for ``X_val`` and ``y_val`` with ``set_fit_request``, and
# the pipeline transforms ``X_val`` with the scaler it fitted on
# ``X_train``. Metadata routing is switched on for this block only
# (``config_context``; ``sklearn.set_config(enable_metadata_routing=True)``
# would switch it on for the whole session).
#
# The network is large for 200 rows, has almost no L2 penalty (``alpha``), a
# high learning rate, and trains 100 epochs whatever its training loss does
# (``n_iter_no_change=100``): enough to overfit.
net = BPClassifier(
    hidden_layer_sizes=(128, 128),
    alpha=1e-6,
    learning_rate_init=0.01,
    max_iter=100,
    n_iter_no_change=100,
    random_state=0,
)
with sklearn.config_context(enable_metadata_routing=True):
    model = Pipeline(
        [
            ("scale", StandardScaler()),
            ("net", net.set_fit_request(X_val=True, y_val=True)),
        ],
        transform_input=["X_val"],
    )
    # Trained past convergence on purpose: silence the warning that says so.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train, X_val=X_val, y_val=y_val)

validation_loss = np.asarray(net.validation_loss_curve_)
best_epoch = int(np.argmin(validation_loss)) + 1
print(f"{net.n_iter_} epochs, {len(validation_loss)} validation losses")
print(
    f"validation loss: lowest {validation_loss.min():.3f} after epoch "
    f"{best_epoch}, {validation_loss[-1]:.3f} after the last"
)
print(f"training loss after the last epoch: {net.loss_curve_[-1]:.4f}")


def report(model):
    """Print the test accuracy and the test log-loss of ``model``."""
    test_loss = log_loss(y_test, model.predict_proba(X_test))
    accuracy = model.score(X_test, y_test)
    print(f"test accuracy {accuracy:.3f}, test log-loss {test_loss:.3f}")


report(model)

# %%
# Both losses share the y axis (cut at 1.5: the first epochs start higher).
# The validation loss is lowest at the dotted line, then climbs while the
# training loss keeps falling to almost nothing: the network overfits.
# What it overfits here is its confidence. Ever surer of its training rows,
# it is also surer of the validation rows it gets wrong, and log-loss
# charges a confident mistake heavily; its accuracy hardly changes.


def draw(model, epoch, title):
    """Both loss curves (and the score, if any), a dotted line at ``epoch``."""
    display = LossCurveDisplay.from_estimator(model)
    display.ax_.set_ylim(0, 1.5)
    display.ax_.axvline(epoch, color="grey", linestyle=":")
    display.ax_.set_title(title)
    display.figure_.tight_layout()


draw(model, best_epoch, "200 digits, no early stopping")

# %%
# The two losses are on one scale, but not quite the same measure: the
# training loss includes the L2 penalty and is the mean of the epoch's batch
# losses while the weights moved; the validation loss is that of the
# weights at the end of the epoch.
#
# Early stopping on the same validation rows
# ------------------------------------------
# With ``early_stopping=True``, ``X_val`` replaces the ``validation_fraction``
# split: the network trains on every training row and stops once its
# accuracy on ``X_val`` has not improved for ``n_iter_no_change`` epochs,
# then keeps the weights of its best epoch. Early stopping reads the
# accuracy (``validation_scores_``, on the second y axis), not the loss.
model.set_params(net__early_stopping=True, net__n_iter_no_change=10)
with sklearn.config_context(enable_metadata_routing=True):
    model.fit(X_train, y_train, X_val=X_val, y_val=y_val)

best_score_epoch = int(np.argmax(net.validation_scores_)) + 1
print(
    f"early stopping: {net.n_iter_} epochs, best validation accuracy "
    f"{net.best_validation_score_:.3f} after epoch {best_score_epoch}"
)
report(model)

# %%
# Stopped after under a third of the epochs, the network kept the weights
# of the epoch with the best validation accuracy, some epochs after the
# lowest validation loss: about the same test accuracy as after 100 epochs,
# and better probabilities (a lower test log-loss). To stop on the
# validation loss itself, a callback of your own can compute it after every
# epoch: see :ref:`sphx_glr_auto_examples_plot_callbacks.py`.
draw(model, best_score_epoch, "The same network, early stopping on X_val")
plt.show()
