"""
Class weights on imbalanced data
================================

scikit-learn's MLP has no ``class_weight``; :class:`skbp.BPClassifier` has
the same one as scikit-learn's linear models and trees. On a problem where
one class is 5% of the rows, ``class_weight="balanced"`` weighs each row by
``n_samples / (n_classes * count(its class))``: the rare class then pulls on
the loss as hard as the common one, and the network stops ignoring it.

The figure shows the two decision boundaries on the same data, and the
recall of each class on held-out rows.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.metrics import balanced_accuracy_score, recall_score
from sklearn.model_selection import train_test_split

from skbp import BPClassifier

X, y = make_classification(
    n_samples=2000,
    n_features=2,
    n_informative=2,
    n_redundant=0,
    n_clusters_per_class=1,
    weights=[0.95, 0.05],
    class_sep=0.8,
    random_state=3,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)

models = {
    "class_weight=None": BPClassifier(
        hidden_layer_sizes=(16,), max_iter=1000, random_state=0
    ),
    'class_weight="balanced"': BPClassifier(
        hidden_layer_sizes=(16,), class_weight="balanced", max_iter=1000, random_state=0
    ),
}
for name, model in models.items():
    model.fit(X_train, y_train)
    pred = model.predict(X_test)
    recalls = recall_score(y_test, pred, average=None)
    print(
        f"{name:24s} recall (common, rare) = {recalls.round(3)}, "
        f"balanced accuracy = {balanced_accuracy_score(y_test, pred):.3f}"
    )

# Decision boundaries on a grid.
xx, yy = np.meshgrid(
    np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, 200),
    np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, 200),
)
grid = np.column_stack([xx.ravel(), yy.ravel()])
fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharey=True)
for ax, (name, model) in zip(axes, models.items()):
    proba = model.predict_proba(grid)[:, 1].reshape(xx.shape)
    ax.contourf(xx, yy, proba, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(xx, yy, proba, levels=[0.5], colors="k")
    ax.scatter(*X_test[y_test == 0].T, s=6, c="C0", label="common class")
    ax.scatter(*X_test[y_test == 1].T, s=12, c="C3", label="rare class")
    recall = recall_score(y_test, model.predict(X_test))
    ax.set_title(f"{name}\nrare-class recall {recall:.2f}")
axes[0].legend(loc="lower left")
fig.tight_layout()
plt.show()
