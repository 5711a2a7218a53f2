"""
Dropout against overfitting
===========================

A wide network trained long on few noisy rows learns the noise: its
training loss keeps falling while its test score drops. Inverted dropout
(``dropout=0.5``: each hidden unit silenced with probability 0.5 at every
training step, the kept ones scaled by 2) keeps it from relying on any one
unit. Prediction uses the whole network, so it stays deterministic.

The figure tracks, epoch by epoch, the test R^2 of the same network trained
with and without dropout (``partial_fit`` one epoch at a time, so the score
can be read in between).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from skbp import BPRegressor

rng = np.random.RandomState(0)
X = rng.uniform(-1, 1, size=(120, 5))
y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2 + 0.4 * rng.normal(size=120)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

n_epochs = 300
curves = {}
for rate in (0.0, 0.5):
    model = BPRegressor(
        hidden_layer_sizes=(256, 256),
        dropout=rate,
        alpha=0.0,
        learning_rate_init=0.003,
        random_state=0,
    )
    scores = []
    for _ in range(n_epochs):
        model.partial_fit(X_train, y_train)
        scores.append(model.score(X_test, y_test))
    curves[rate] = scores
    print(
        f"dropout={rate}: test R^2 best {max(scores):.3f}, "
        f"after {n_epochs} epochs {scores[-1]:.3f}"
    )
    # Dropout only acts while training: predictions are deterministic.
    assert np.array_equal(model.predict(X_test), model.predict(X_test))

fig, ax = plt.subplots(figsize=(6, 3.8))
for rate, scores in curves.items():
    ax.plot(scores, label=f"dropout={rate}")
ax.set_xlabel("epoch")
ax.set_ylabel("test $R^2$")
ax.set_ylim(bottom=-0.2)
ax.legend()
ax.set_title("A (256, 256) network on 90 noisy rows")
fig.tight_layout()
plt.show()
