"""BPClassifier: a multi-layer perceptron classifier on the hand-written core."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelBinarizer, label_binarize
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels

from .._data import placement_of
from .._data.dask import dask_blocks
from .._data.scores import Accuracy
from .._engine.tasks import with_callbacks
from .._model.arrays import is_device_array, namespace_of, to_host
from .._model.rollback import keeps_fitted_state
from .._model.settings import check_finite_targets
from ..core import BinaryLogLoss, MulticlassLogLoss, device, to_numpy
from .base import BaseBackprop
from .docstrings import (
    CLASS_WEIGHT,
    CLASSIFIER,
    COMMON_ATTRIBUTES,
    COMMON_PARAMETERS,
    constraints,
)
from .html_repr import DocLinkMixin


def indicator_matrix(y, binarizer):
    """The 0/1 indicator matrix of ``binarizer.transform(y)``, as bool.

    Bool, as scikit-learn's MLP keeps it: 8 times smaller than floats, and
    the losses read it as 0.0/1.0. Built through the binarizer's sparse
    output, which skips the dense int64 matrix (8 times the bool one) that
    ``transform`` would make first.

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Labels (an indicator matrix for multilabel targets), on the host.
    binarizer : sklearn.preprocessing.LabelBinarizer
        Fitted.

    Returns
    -------
    Y : ndarray of shape (n_samples, n_outputs), bool
    """
    if type_of_target(y).startswith("multilabel") and not (
        binarizer.y_type_.startswith("multilabel")
    ):
        raise ValueError("The object was not fitted with multilabel input.")
    Y = label_binarize(
        y,
        classes=binarizer.classes_,
        neg_label=binarizer.neg_label,
        pos_label=binarizer.pos_label,
        sparse_output=True,
    )
    return Y.astype(bool).toarray()


class BPClassifier(DocLinkMixin, ClassifierMixin, BaseBackprop):
    # Pickles and skops files name the public home, skbp.BPClassifier: it stays
    # where it is whatever the private modules' layout (numpy's set_module).
    __module__ = "skbp"

    _parameter_constraints: dict = {
        **BaseBackprop._parameter_constraints,
        **constraints(CLASSIFIER),
    }

    __doc__ = f"""Multi-layer perceptron classifier trained by hand-written backprop.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`:
    same parameters, attributes and methods. Binary and multilabel targets
    get independent logistic outputs and the binary log-loss; multiclass
    targets a softmax output and the multiclass log-loss.

    Parameters
    ----------
{COMMON_PARAMETERS}
{CLASS_WEIGHT}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (for multilabel ``y``, the column indices).

{COMMON_ATTRIBUTES}
    See Also
    --------
    BPRegressor : The regressor.
    sklearn.neural_network.MLPClassifier : scikit-learn's implementation.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skbp import BPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(),
    ...                     BPClassifier(max_iter=500, random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        restore_best_weights=False,
        progress=False,
        check_gradients=True,
        class_weight=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.restore_best_weights = restore_best_weights
        self.progress = progress
        self.check_gradients = check_gradients
        self.class_weight = class_weight

    # -- labels ----------------------------------------------------------
    def _learn_targets(self, y, place, incremental):
        # In memory, every label (a multilabel y keeps its columns); on Dask
        # chunks, their distinct values: the binarizer learns the same.
        self._fit_labels(place.label_sample(y), incremental)

    def _encoded(self, y, place, dtype):
        # One logistic unit for two classes (or one); else one per class or
        # label.
        binary = self._label_binarizer.y_type_ == "binary"
        n_outputs = 1 if binary else len(self.classes_)
        return place.encode(y, indicator_matrix, n_outputs, bool, self._label_binarizer)

    def _fit_labels(self, y, incremental):
        """Learn the classes of ``y`` (a fresh fit), or check them against
        those known (``warm_start``, ``partial_fit``).

        ``y`` may be every label of the data, or each distinct one once
        (single-label targets): the binarizer learns the same from both.
        """
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            self._check_known_classes(y)

    def _row_weights(self, Y, sample_weight, incremental, place):
        """Multiply ``sample_weight`` by each row's class weight
        (:func:`~skbp._model.settings.class_weight_rows`'s rule, applied
        where the rows are)."""
        if self.class_weight is None:
            return sample_weight
        self._check_incremental_class_weight(incremental)
        return place.class_weighted(
            self.class_weight,
            Y,
            self.classes_,
            sample_weight,
            self._label_binarizer.y_type_.startswith("multilabel"),
        )

    def _check_incremental_class_weight(self, incremental):
        if incremental and isinstance(self.class_weight, str):
            raise ValueError(
                "class_weight='balanced' needs the class frequencies of the whole "
                "data, which partial_fit does not see. Compute the weights once "
                "with sklearn.utils.class_weight.compute_class_weight('balanced', "
                "classes=classes, y=y) and pass them as a dict."
            )

    def _check_known_classes(self, y):
        classes = unique_labels(y)
        if self.warm_start:
            if set(classes) != set(self.classes_):
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes as "
                    f"in the previous call to fit. Previously got {self.classes_}, "
                    f"`y` has {classes}"
                )
        elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
            raise ValueError(
                f"`y` has classes not in `self.classes_`. `self.classes_` has "
                f"{self.classes_}. 'y' has {classes}."
            )

    def _is_multiclass(self):
        return self._label_binarizer.y_type_ == "multiclass"

    def _out_activation(self):
        return "softmax" if self._is_multiclass() else "logistic"

    def _output_loss(self):
        if self.out_activation_ == "softmax":
            return MulticlassLogLoss()
        return BinaryLogLoss()

    def _stratified(self):
        # Multilabel rows cannot be stratified by one label.
        return not self._label_binarizer.y_type_.startswith("multilabel")

    def _scoring(self):
        return Accuracy(
            len(self.classes_),
            multilabel=self._label_binarizer.y_type_.startswith("multilabel"),
        )

    def _check_validation_labels(self, y_val):
        unseen = np.setdiff1d(unique_labels(y_val), self.classes_)
        if len(unseen):
            raise ValueError(
                f"y_val has labels {unseen.tolist()} that y does not have: the "
                f"network only has outputs for the classes of y, {self.classes_}."
            )

    def _labels(self, output):
        """Labels from the output layer: what LabelBinarizer.inverse_transform
        gives, taken directly for single-label targets (a large share of a
        one-row prediction otherwise)."""
        if is_device_array(output):
            return self._device_labels(output)
        y_type = self._label_binarizer.y_type_
        if y_type == "multiclass":
            return self.classes_[output.argmax(axis=1)]
        if y_type == "binary" and len(self.classes_) == 2:
            return self.classes_[(output[:, 0] > 0.5).astype(np.intp)]
        if self.n_outputs_ == 1:
            output = output.ravel()
        return self._label_binarizer.inverse_transform(output)

    def _device_labels(self, output):
        """:meth:`_labels` of an output on a device (any library but numpy).

        The class indices are computed there, and numeric labels gathered
        there too; string labels (numpy's only) come back as numpy, as
        scikit-learn's array-API classifiers return them. Multilabel
        outputs are decoded on the host and moved back.
        """
        xp, where = namespace_of(output), device(output)
        y_type = self._label_binarizer.y_type_
        if y_type == "multiclass":
            index = xp.argmax(output, axis=1)
        elif y_type == "binary" and len(self.classes_) == 2:
            index = xp.astype(output[:, 0] > 0.5, xp.int64)
        else:
            labels = self._labels(to_numpy(output))
            return xp.asarray(labels, device=where)
        if self.classes_.dtype.kind in "OSU":
            return self.classes_[to_numpy(index)]
        return xp.take(xp.asarray(self.classes_, device=where), index, axis=0)

    # -- public API ------------------------------------------------------
    @dask_blocks
    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Predicted labels (an indicator matrix for multilabel ``y``).
        """
        return self._labels(self._predict_raw(X, "predict"))

    @dask_blocks
    def predict_proba(self, X):
        """Probability of each class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``. Rows sum to one, except for
            multilabel targets (independent probabilities per label).
        """
        return self._proba(self._predict_raw(X, "predict_proba"))

    def _proba(self, output):
        """``predict_proba`` from the output layer, in its library."""
        if self.n_outputs_ > 1:
            return output
        xp = namespace_of(output)
        if len(self.classes_) == 1:  # fitted on one class: it is certain
            return xp.ones_like(output)
        p = output[:, 0]
        return xp.stack([1 - p, p], axis=1)

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of :meth:`predict` on ``X`` against ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        check_finite_targets(y, sample_weight)
        return super().score(X, y, sample_weight=sample_weight)

    @dask_blocks
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        proba = self._proba(self._predict_raw(X, "predict_log_proba"))
        xp = namespace_of(proba)
        with np.errstate(divide="ignore"):
            return xp.log(proba, out=proba)

    @available_if(lambda est: est._check_solver())
    @keeps_fitted_state
    @with_callbacks
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the network with one epoch over ``X`` and ``y``.

        Only for the stochastic solvers (every ``solver`` but ``'lbfgs'``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole stream (the label columns for multilabel
            ``y``). Required on the first call, then checked against
            ``classes_``. An array of any library (a PyTorch tensor under
            array-API dispatch): ``classes_`` is a numpy array, as after
            ``fit``.

        Returns
        -------
        self : object

        Notes
        -----
        ``partial_fit`` takes no validation data: each call is one epoch on
        the rows it is given, and ``validation_loss_curve_`` does not grow.
        Score held-out rows between calls, or give ``fit`` its ``X_val``
        and ``y_val``.
        """
        self._validate_params()
        # Labels live on the host, whatever library holds X (as in fit).
        classes = to_host(classes)
        if self._first_partial_fit(classes):
            # Multilabel targets are their own columns' classes.
            multilabel = placement_of(X).is_multilabel(y)
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y if multilabel else classes)
            self.classes_ = self._label_binarizer.classes_
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _first_partial_fit(self, classes):
        """True on the first call; checks ``classes`` against what is known."""
        known = getattr(self, "classes_", None)
        if known is None and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if classes is None:
            return False
        if known is not None:
            if not np.array_equal(known, unique_labels(classes)):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on the last call to "
                    f"partial_fit, was: {known!r}"
                )
            return False
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
