"""
Activations and their derivatives, one per layer
================================================

Every hidden activation of :mod:`skbp.core` comes with its derivative,
written out next to it (the backward pass multiplies by it). The top row
draws each pair straight from the core's objects; the derivative is also
checked against finite differences, which is what the test suite does for
every activation.

``activation`` may also be a list, one name per hidden layer, which
scikit-learn's MLP does not allow: the bottom panel fits the seed's sine
curve with a few such networks.
"""

import matplotlib.pyplot as plt
import numpy as np

from skbp import BPRegressor
from skbp.core import HIDDEN_ACTIVATIONS, get_activation

z = np.linspace(-4, 4, 400).reshape(1, -1)  # avoids z = 0, where relu has a kink
fig, axes = plt.subplots(2, 1, figsize=(8, 7), height_ratios=[1, 1.1])
ax = axes[0]
for i, name in enumerate(HIDDEN_ACTIVATIONS):
    f = get_activation(name)
    A, dA = f.forward(z.copy()), f.derivative(z)
    numeric = (f.forward(z + 1e-6) - f.forward(z - 1e-6)) / 2e-6
    error = np.abs(dA - numeric).max()
    print(f"{name:10s} largest |f' - finite difference| = {error:.1e}")
    ax.plot(z.ravel(), A.ravel(), color=f"C{i}", label=name)
    ax.plot(z.ravel(), dA.ravel(), color=f"C{i}", linestyle=":")
ax.set_ylim(-1.5, 3)
ax.set_title("f (solid) and f' (dotted)")
ax.legend(ncol=3, fontsize=8)

x = np.arange(0.0, 1.0, 0.01).reshape(-1, 1)
y = 20 * np.sin(2 * np.pi * x).ravel()
ax = axes[1]
ax.scatter(x, y, s=8, color="k", label="data")
for layers in (
    ["relu", "relu"],
    ["tanh", "gelu"],
    ["silu", "elu"],
    ["softplus", "leaky_relu"],
):
    reg = BPRegressor(
        hidden_layer_sizes=(16, 16),
        activation=layers,
        solver="lbfgs",
        max_iter=3000,
        random_state=0,
    ).fit(x, y)
    print(f"activation={layers}: R^2 = {reg.score(x, y):.4f}")
    ax.plot(x, reg.predict(x), label=f"{layers}")
ax.set_title("20 sin(2 pi x), hidden_layer_sizes=(16, 16)")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
