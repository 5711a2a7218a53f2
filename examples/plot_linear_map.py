"""
Recovering a linear map with a network of no hidden layer
=========================================================

The seed tutorial's fully connected layer ``Z = X W + b`` trained by SGD on
batches of 2 rows recovers a known ``W`` (2 x 3) and ``b`` (3) from 500
integer samples. With ``hidden_layer_sizes=()``, :class:`skbp.BPRegressor`
is exactly that layer: linear regression trained by backprop.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skbp import BPRegressor

W = np.array([[3, 7, 4], [5, 2, 6]])
b = np.array([2, 9, 3])
rng = np.random.RandomState(0)
X = rng.randint(0, 10, size=(500, 2)).astype(float)
Y = X @ W + b

reg = BPRegressor(
    hidden_layer_sizes=(),
    solver="sgd",
    batch_size=2,
    learning_rate_init=0.01,
    momentum=0.0,
    alpha=0.0,
    max_iter=100,
    tol=0.0,
    n_iter_no_change=100,
    random_state=0,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    reg.fit(X, Y)

print("recovered W:\n", reg.coefs_[0].round(6))
print("recovered b:", reg.intercepts_[0].round(6))
print("W == W_true:", np.allclose(reg.coefs_[0], W))
print("b == b_true:", np.allclose(reg.intercepts_[0], b))

# %%
# The loss falls geometrically: the problem is convex and noise-free.
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(reg.loss_curve_)
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("loss")
fig.tight_layout()
plt.show()
