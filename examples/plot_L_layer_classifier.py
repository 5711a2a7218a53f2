"""
The seed's L-layer network on a real dataset
=============================================

The seed tutorial builds an L-layer network from building blocks:
``[LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID`` trained on the
cross-entropy cost. :class:`skbp.BPClassifier` with relu hidden layers on a
binary problem is that network (a logistic output with the binary log-loss).
Here it classifies scikit-learn's breast cancer dataset.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

clf = BPClassifier(
    hidden_layer_sizes=(20, 7, 5),  # the seed's layers_dims, minus in/out
    activation="relu",
    solver="sgd",
    learning_rate_init=0.05,
    momentum=0.0,
    batch_size=len(X_train),  # full batch, as in the seed
    max_iter=1500,
    tol=0.0,
    n_iter_no_change=1500,
    random_state=1,
)
with warnings.catch_warnings():
    # A fixed number of full-batch iterations, as in the seed.
    warnings.simplefilter("ignore", ConvergenceWarning)
    model = make_pipeline(StandardScaler(), clf).fit(X_train, y_train)
print(f"output activation: {clf.out_activation_}, layers: {clf.n_layers_}")
print(f"epochs run: {clf.n_iter_}")
print(f"train accuracy: {model.score(X_train, y_train):.3f}")
print(f"test accuracy:  {model.score(X_test, y_test):.3f}")

# %%
# The cost curve: the cross-entropy (plus the small L2 term) per epoch.
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(clf.loss_curve_)
ax.set_xlabel("epoch")
ax.set_ylabel("cost")
ax.set_title("L-layer network, breast cancer")
fig.tight_layout()
plt.show()
