"""
Fitting ``20 sin(2 pi x)`` with the seed's [1, 25, 1] network
=============================================================

The seed tutorial trains a network with one hidden layer of 25 logistic
units and an identity output by full-batch gradient descent (learning rate
0.3, 4000 iterations) on ``y = 20 sin(2 pi x)``, ``x = 0.00 .. 0.99``.

:class:`skbp.BPRegressor` is configured to run exactly that loop:
``solver="sgd"`` with one batch holding every row, no momentum, no L2 penalty
and no early stop.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skbp import BPRegressor

x = np.arange(0.0, 1.0, 0.01).reshape(-1, 1)
y = 20 * np.sin(2 * np.pi * x).ravel()

reg = BPRegressor(
    hidden_layer_sizes=(25,),
    activation="logistic",
    solver="sgd",
    learning_rate_init=0.3,
    momentum=0.0,
    batch_size=len(x),  # full batch, as in the seed
    alpha=0.0,
    max_iter=4000,
    tol=0.0,
    n_iter_no_change=4000,
    shuffle=False,
    random_state=0,
)
with warnings.catch_warnings():
    # 4000 iterations is the point, not a failure to converge.
    warnings.simplefilter("ignore", ConvergenceWarning)
    reg.fit(x, y)

mse = np.mean((reg.predict(x) - y) ** 2)
print(f"mean squared error after {reg.n_iter_} iterations: {mse:.4f}")
print(f"R^2: {reg.score(x, y):.4f}")

# %%
# The data, the fit and the loss curve (half the mean squared error).
fig, (ax_fit, ax_loss) = plt.subplots(1, 2, figsize=(10, 4))
ax_fit.scatter(x, y, s=10, label="data")
ax_fit.plot(x, reg.predict(x), color="C1", label="BPRegressor")
ax_fit.set_xlabel("x")
ax_fit.set_ylabel("y")
ax_fit.legend()
ax_loss.plot(reg.loss_curve_)
ax_loss.set_yscale("log")
ax_loss.set_xlabel("iteration")
ax_loss.set_ylabel("loss")
fig.tight_layout()
plt.show()
