"""
Your own activation and loss, checked by backprop
=================================================

An activation is a function and its derivative; a loss is a per-row loss
and its gradient. Write both by hand as subclasses of
:class:`skbp.core.Activation` and :class:`skbp.core.Loss`, and the
estimators train with them. Before training, ``fit`` compares your
derivative with finite differences of your function (``check_gradients``,
on by default), so a slip in the calculus is caught before it silently
slows training down.

Here: the softsign activation and the log-cosh loss, a robust loss that is
quadratic near the target and linear far from it.
"""

import math
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skbp import BPRegressor
from skbp.core import Activation, Identity, Loss, namespace_of


# %%
# The softsign activation
# -----------------------
#
# .. math:: f(z) = \frac{z}{1 + |z|}, \qquad f'(z) = \frac{1}{(1 + |z|)^2}
#
# ``forward`` writes into ``out`` when it is given (training passes
# buffers); ``derivative`` returns :math:`f'(Z)`, and the base class's
# ``backward`` multiplies the incoming gradient by it. Writing both with
# ``xp = namespace_of(Z)`` makes them run on any array library (PyTorch,
# CuPy...), like skbp's own.
class SoftSign(Activation):
    name = "softsign"

    def forward(self, Z, out=None):
        xp = namespace_of(Z)
        return xp.divide(Z, 1.0 + xp.abs(Z), out=out)

    def derivative(self, Z, A=None):
        xp = namespace_of(Z)
        d = 1.0 + xp.abs(Z)
        return 1.0 / (d * d)


# %%
# The log-cosh loss
# -----------------
#
# .. math:: \ell(y, z) = \sum_k \log\cosh(z_k - y_k), \qquad
#           \frac{\partial \ell}{\partial z} = \tanh(z - y)
#
# with the identity as output activation. ``per_sample`` returns each row's
# loss; ``per_sample_gradient`` its gradient with respect to the output
# pre-activation ``Z``. :math:`\log\cosh r` is computed as
# :math:`|r| + \log(1 + e^{-2|r|}) - \log 2`, which never overflows.
class LogCosh(Loss):
    name = "log_cosh"
    output_activation = Identity()

    def per_sample(self, Y, Z, A):
        xp = namespace_of(A)
        r = xp.abs(A - Y)
        return xp.sum(r + xp.log1p(xp.exp(-2.0 * r)) - math.log(2.0), axis=1)

    def per_sample_gradient(self, Y, Z, A, out=None):
        xp = namespace_of(A)
        return xp.tanh(A - Y)


# %%
# Fitting with them
# -----------------
#
# A sine with a few gross outliers: the log-cosh loss pulls on them with a
# force of at most 1, where the squared error's force grows with the
# residual.
rng = np.random.RandomState(0)
x = np.sort(rng.uniform(-3, 3, 150)).reshape(-1, 1)
y = np.sin(x).ravel() + 0.1 * rng.randn(150)
y[::15] += 4.0  # outliers

params = dict(hidden_layer_sizes=(20,), solver="lbfgs", max_iter=500, random_state=0)
# Both fits use their 500 L-BFGS iterations: no need to warn about it here.
warnings.filterwarnings("ignore", category=ConvergenceWarning)
robust = BPRegressor(activation=SoftSign(), loss=LogCosh(), **params).fit(x, y)
squared = BPRegressor(activation=SoftSign(), **params).fit(x, y)

clean = np.sin(x).ravel()
for label, model in [("log-cosh", robust), ("squared error", squared)]:
    error = np.mean(np.abs(model.predict(x) - clean))
    print(f"{label:>13}: mean distance to the clean sine {error:.3f}")

# %%
# A mistake in the derivative is caught
# -------------------------------------
#
# Forget the square in :math:`f'`: the check refuses the activation before
# the first training step, naming it and showing the relative error
# between your derivative and the finite differences. (The built-in
# activations and losses are not checked: skbp's tests check them.)


class SoftSignWithAMistake(SoftSign):
    def derivative(self, Z, A=None):
        xp = namespace_of(Z)
        return 1.0 / (1.0 + xp.abs(Z))  # should be squared


try:
    BPRegressor(activation=SoftSignWithAMistake(), **params).fit(x, y)
except ValueError as error:
    print(error)

# %%
# ``check_gradients=False`` skips the check (and trains on the wrong
# gradient). A model holding your objects is saved with pickle, joblib or
# skops, which record their classes; :func:`skbp.save` stores no code and
# refuses it.

fig, ax = plt.subplots(figsize=(7, 4))
ax.scatter(x, y, s=8, color="0.6", label="data (with outliers)")
ax.plot(x, clean, "k:", label="clean sine")
ax.plot(x, robust.predict(x), label="softsign + log-cosh loss")
ax.plot(x, squared.predict(x), label="softsign + squared error")
ax.set_ylim(-2, 5)
ax.legend()
ax.set_title("A hand-written activation and loss")
fig.tight_layout()
plt.show()
