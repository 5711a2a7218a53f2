"""
Checking the hand-written gradients against finite differences
===============================================================

Every gradient skbp trains with comes from the backward pass written out in
:mod:`skbp.core`. :func:`skbp.core.gradient_check` nudges each parameter by
``+-eps``, measures the change of the loss and compares with backprop. A
relative error near ``1e-9`` in float64 means the math is right; a broken
derivative shows up at once.
"""

import matplotlib.pyplot as plt
import numpy as np

from skbp.core import (
    ACTIVATIONS,
    HIDDEN_ACTIVATIONS,
    MulticlassLogLoss,
    ReLU,
    get_activation,
    gradient_check,
    initialize_parameters,
)

rng = np.random.RandomState(0)
X = rng.randn(20, 4)
Y = np.eye(3)[rng.randint(3, size=20)]
loss = MulticlassLogLoss()

errors = {}
for name in HIDDEN_ACTIVATIONS:
    coefs, intercepts = initialize_parameters([4, 6, 5, 3], rng)
    activations = [get_activation(name)] * 2 + [loss.output_activation]
    errors[name] = gradient_check(X, Y, coefs, intercepts, activations, loss, alpha=0.1)
    print(f"{name:>9}: largest relative error {errors[name]:.2e}")


# %%
# A deliberately wrong derivative (relu's derivative doubled) is caught.
class BrokenReLU(ReLU):
    def derivative(self, Z, A=None):
        return 2.0 * super().derivative(Z, A)

    def backward(self, dA, Z, A=None, out=None):
        return np.multiply(dA, self.derivative(Z, A), out=out)


coefs, intercepts = initialize_parameters([4, 6, 5, 3], rng)
broken = [BrokenReLU(), BrokenReLU(), loss.output_activation]
errors["broken relu"] = gradient_check(X, Y, coefs, intercepts, broken, loss)
print(f"broken relu: largest relative error {errors['broken relu']:.2e}")
assert "broken relu" not in ACTIVATIONS

fig, ax = plt.subplots(figsize=(7, 3.8))
colors = ["C0"] * len(HIDDEN_ACTIVATIONS) + ["C3"]  # the broken one in red
ax.bar(list(errors), list(errors.values()), color=colors)
ax.tick_params(axis="x", labelrotation=45)
ax.set_yscale("log")
ax.set_ylabel("relative error")
ax.set_title("backprop vs finite differences")
fig.tight_layout()
plt.show()
