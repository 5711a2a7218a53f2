"""
Fitting ``20 sin(2 pi x)`` with the seed's [1, 25, 1] network
=============================================================

The seed tutorial trains a network with one hidden layer of 25 logistic
units and an identity output by full-batch gradient descent (learning rate
0.3, 4000 iterations) on ``y = 20 sin(2 pi x)``, ``x = 0.00 .. 0.99``.

:func:`skbp.demo.seed_sine_setup` returns that data and a
:class:`skbp.BPRegressor` configured to run exactly that loop:
``solver="sgd"`` with one batch holding every row, no momentum, no L2 penalty
and no early stop. ``python -m skbp`` starts from the same setup.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skbp.demo import seed_sine_setup

x, y, reg = seed_sine_setup()
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
