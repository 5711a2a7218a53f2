"""The estimators' parameters: one table of docstring entries and constraints.

The lists of names (activations, solvers, schedules, regression losses) are
read from the core's registries, so that a class added there is documented
here too.
"""

import inspect
import textwrap
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from sklearn.utils._param_validation import Interval, Options, StrOptions

from ..core import (
    HIDDEN_ACTIVATIONS,
    LOSSES,
    OPTIMIZERS,
    REGRESSION_LOSSES,
    Activation,
    Loss,
)
from ..core.optimizers import LEARNING_RATE_SCHEDULES

_INDENT = " " * 8  # a parameter's description

#: Every ``solver``: L-BFGS, then the stochastic optimizers of the core.
SOLVERS = ("lbfgs", *OPTIMIZERS)


def _choices(names):
    """``{'a', 'b'}``: the type line of a parameter taking one of ``names``."""
    return "{" + ", ".join(f"'{name}'" for name in names) + "}"


def _quoted(names):
    """Names in running text, each a literal ``'name'``."""
    return ", ".join(f"``'{name}'``" for name in names)


def _paragraph(text):
    """``text`` wrapped as a parameter's description."""
    return textwrap.fill(text, 79, initial_indent=_INDENT, subsequent_indent=_INDENT)


def _described(registry, names):
    """A bullet per name: the name, then its class's docstring summary."""
    rows = []
    for name in names:
        summary = inspect.getdoc(registry[name]).split("\n\n")[0]
        rows.append(
            textwrap.fill(
                f"``'{name}'``: {' '.join(summary.split())}",
                79,
                initial_indent=_INDENT + "- ",
                subsequent_indent=_INDENT + "  ",
            )
        )
    return "\n".join(rows)


class Parameter(NamedTuple):
    """One estimator parameter: its numpydoc entry and its constraints.

    Attributes
    ----------
    name : str
    kind : str
        The entry's type line (``"float, default=1e-4"``).
    description : str
        The entry's text, indented as in a class docstring (8 spaces).
    constraints : list
        scikit-learn's ``_parameter_constraints`` value for ``name``.
    """

    name: str
    kind: str
    description: str
    constraints: list


def documented(parameters):
    """The numpydoc entries of ``parameters``, as a Parameters section holds
    them (4-space indented names, blank lines between)."""
    entries = [f"    {p.name} : {p.kind}\n{p.description}" for p in parameters]
    return "\n\n".join(entries) + "\n"


def constraints(parameters):
    """scikit-learn's ``_parameter_constraints`` of ``parameters``."""
    return {p.name: p.constraints for p in parameters}


_ACTIVATION = _paragraph(
    f"Activation of the hidden layers: one of {_quoted(HIDDEN_ACTIVATIONS)} for "
    "every hidden layer, or a list with one per hidden layer. An "
    ":class:`~skbp.core.Activation` object (your own subclass, with its "
    "``forward`` and ``derivative`` written by hand) can stand in for any name, "
    "alone or in the list; its derivative is checked before training "
    "(``check_gradients``)."
)

#: Each parameter both estimators take: its docstring entry and its
#: constraints (scikit-learn's ``_parameter_constraints``), in one row. A new
#: option is one row here, the module that implements it, its test, and both
#: estimators' ``__init__`` signatures.
COMMON = (
    Parameter(
        "hidden_layer_sizes",
        "array-like of shape (n_layers - 2,) or int, default=(100,)",
        """\
        Number of units of each hidden layer; ``()`` means no hidden layer.""",
        ["array-like", Interval(Integral, 1, None, closed="left")],
    ),
    Parameter(
        "activation",
        "str, Activation or list of them, default='relu'",
        f"""\
{_ACTIVATION}""",
        [StrOptions(set(HIDDEN_ACTIVATIONS)), Activation, list, tuple],
    ),
    Parameter(
        "solver",
        f"{_choices(SOLVERS)}, default='adam'",
        f"""\
        Weight optimizer: ``'lbfgs'``, L-BFGS on the flattened parameters, or
        one of the stochastic optimizers of :mod:`skbp.core.optimizers`:

{_described(OPTIMIZERS, OPTIMIZERS)}""",
        [StrOptions(set(SOLVERS))],
    ),
    Parameter(
        "alpha",
        "float, default=0.0001",
        """\
        Strength of the L2 penalty on the weights.""",
        [Interval(Real, 0, None, closed="left")],
    ),
    Parameter(
        "batch_size",
        "int or 'auto', default='auto'",
        """\
        Rows per mini-batch for the stochastic solvers; ``'auto'`` is
        ``min(200, n_samples)``.""",
        [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    ),
    Parameter(
        "learning_rate",
        f"{_choices(LEARNING_RATE_SCHEDULES)}, default='constant'",
        """\
        Learning-rate schedule of ``solver='sgd'``.""",
        [StrOptions(set(LEARNING_RATE_SCHEDULES))],
    ),
    Parameter(
        "learning_rate_init",
        "float, default=0.001",
        """\
        Initial learning rate (stochastic solvers).""",
        [Interval(Real, 0, None, closed="neither")],
    ),
    Parameter(
        "power_t",
        "float, default=0.5",
        """\
        Exponent of the ``'invscaling'`` schedule.""",
        [Interval(Real, 0, None, closed="left")],
    ),
    Parameter(
        "max_iter",
        "int, default=200",
        """\
        Epochs (stochastic solvers) or iterations (lbfgs), per call to fit.""",
        [Interval(Integral, 1, None, closed="left")],
    ),
    Parameter(
        "shuffle",
        "bool, default=True",
        """\
        Shuffle the rows every epoch (stochastic solvers).""",
        ["boolean"],
    ),
    Parameter(
        "random_state",
        "int, RandomState instance or None, default=None",
        """\
        Seeds weight initialisation, shuffling and the early-stopping split.""",
        ["random_state"],
    ),
    Parameter(
        "tol",
        "float, default=1e-4",
        """\
        An epoch whose loss (or validation score) improves on the best so far
        by less than ``tol`` counts as no improvement. For ``solver='lbfgs'``,
        the largest gradient component at which to stop (scipy's ``gtol``).""",
        [Interval(Real, 0, None, closed="left")],
    ),
    Parameter(
        "verbose",
        "bool, default=False",
        """\
        Print the loss after every iteration.""",
        ["verbose"],
    ),
    Parameter(
        "warm_start",
        "bool, default=False",
        """\
        Continue from the fitted weights on the next call to fit.""",
        ["boolean"],
    ),
    Parameter(
        "momentum",
        "float, default=0.9",
        """\
        Momentum of ``solver='sgd'``, in [0, 1].""",
        [Interval(Real, 0, 1, closed="both")],
    ),
    Parameter(
        "nesterovs_momentum",
        "bool, default=True",
        """\
        Use Nesterov's momentum (``solver='sgd'``, ``momentum > 0``).""",
        ["boolean"],
    ),
    Parameter(
        "early_stopping",
        "bool, default=False",
        """\
        Hold out ``validation_fraction`` of the training data and stop when
        its score stops improving; the best weights are kept.""",
        ["boolean"],
    ),
    Parameter(
        "validation_fraction",
        "float, default=0.1",
        """\
        Share of the training data held out for early stopping.""",
        [Interval(Real, 0, 1, closed="left")],
    ),
    Parameter(
        "beta_1",
        "float, default=0.9",
        """\
        Decay rate of Adam's first moment estimates (the mean of the
        gradients), in [0, 1).""",
        [Interval(Real, 0, 1, closed="left")],
    ),
    Parameter(
        "beta_2",
        "float, default=0.999",
        """\
        Decay rate of Adam's second moment estimates (the mean of the squared
        gradients), in [0, 1).""",
        [Interval(Real, 0, 1, closed="left")],
    ),
    Parameter(
        "epsilon",
        "float, default=1e-8",
        """\
        Numerical-stability term of Adam.""",
        [Interval(Real, 0, None, closed="neither")],
    ),
    Parameter(
        "n_iter_no_change",
        "int, default=10",
        """\
        Training reacts (stops, or with ``learning_rate='adaptive'`` divides
        the rate by 5) after ``n_iter_no_change + 1`` consecutive epochs
        without an improvement of at least ``tol``, as in scikit-learn.""",
        [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
    ),
    Parameter(
        "max_fun",
        "int, default=15000",
        """\
        Maximum number of loss evaluations (``solver='lbfgs'``).""",
        [Interval(Integral, 1, None, closed="left")],
    ),
    Parameter(
        "dropout",
        "float or list of float, default=0.0",
        """\
        Inverted dropout rate of the hidden layers, one value for all or one
        per hidden layer, each in ``[0, 1)``: while training, each hidden
        unit is silenced with this probability and the kept ones scaled by
        ``1 / (1 - rate)``. Prediction uses the whole network and is
        deterministic. The masks are drawn from ``random_state``. Stochastic
        solvers only.""",
        [Interval(Real, 0, 1, closed="left"), list, tuple, np.ndarray],
    ),
    Parameter(
        "restore_best_weights",
        "bool, default=False",
        """\
        Without early stopping, keep the weights of the epoch with the lowest
        training loss (``best_loss_``) instead of the last epoch's. With
        ``early_stopping=True`` the weights of the best validation score are
        always the ones kept. Stochastic solvers, ``fit`` only.""",
        ["boolean"],
    ),
    Parameter(
        "progress",
        "bool, default=False",
        """\
        Show a progress display while fitting: epochs (or L-BFGS iterations)
        done, loss, validation score and time left, redrawn on one line in a
        terminal, a few plain lines otherwise (logs, CI). Independent of
        ``verbose``, which prints scikit-learn's per-iteration lines. Ignored,
        with a ``UserWarning``, when a :class:`sklearn.callback.ProgressBar`
        callback draws the fit (set on the estimator or on a meta-estimator
        around it): one display on the terminal at a time.""",
        ["boolean"],
    ),
    Parameter(
        "check_gradients",
        "bool, default=True",
        """\
        Before training on an :class:`~skbp.core.Activation` or
        :class:`~skbp.core.Loss` object of your own (``activation=``,
        ``loss=``), compare its derivative with finite differences, in float64
        on a few training rows, and refuse a wrong one with a ``ValueError``
        that names the object and the relative error. The built-in names and
        objects of the built-in classes are not checked (their gradients are
        tested with skbp). Set False to skip the check. (``skbp.save``
        refuses a model holding such an object: it stores no code; use
        pickle, joblib or skops.)""",
        ["boolean"],
    ),
)

#: The classifier's own parameters.
CLASSIFIER = (
    Parameter(
        "class_weight",
        "dict, 'balanced' or None, default=None",
        """\
        Weight of each class, multiplying ``sample_weight``: ``{label:
        weight}`` (classes absent from the dict weigh 1), or ``'balanced'``
        for ``sum(s) / (K * sum(s[y == k]))`` for class ``k``, where ``s`` is
        ``sample_weight`` (ones if None) and ``K`` counts the classes of
        positive total weight, as
        :func:`sklearn.utils.class_weight.compute_class_weight` computes it
        for them. ``'balanced'`` is computed from the ``y`` given to ``fit``;
        for ``partial_fit`` pass a dict. Multilabel targets take only
        ``'balanced'`` (or None): each label column is balanced as a binary
        target (its 0s against its 1s) and a row's weight is the product of
        its columns' weights, as
        :func:`sklearn.utils.class_weight.compute_sample_weight` does for
        multi-output targets.""",
        [StrOptions({"balanced"}), dict, None],
    ),
)

#: The regressor's own parameters: the loss (first in its docstring), then
#: the Huber loss's threshold and the quantile loss's levels (last).
REGRESSOR = (
    Parameter(
        "loss",
        f"{_choices(REGRESSION_LOSSES)} or Loss, default='squared_error'",
        f"""\
        The loss minimised, each with its output activation
        (:mod:`skbp.core.losses`):

{_described(LOSSES, REGRESSION_LOSSES)}

        ``'poisson'`` needs non-negative targets; ``'huber'`` turns from
        quadratic to linear at ``huber_delta``; ``'quantile'`` predicts the
        ``quantile`` levels. A :class:`~skbp.core.Loss` object of your own
        (its ``per_sample`` loss and ``per_sample_gradient`` written by hand)
        is trained on once its gradient is checked (``check_gradients``). An
        object carries its own constants: ``huber_delta`` and ``quantile``
        apply to the names (``loss=PinballLoss([0.1, 0.9])`` is
        ``loss='quantile', quantile=[0.1, 0.9]``).""",
        [StrOptions(set(REGRESSION_LOSSES)), Loss],
    ),
    Parameter(
        "huber_delta",
        "float, default=1.0",
        """\
        Residual size where the Huber loss turns from quadratic to linear
        (``loss='huber'`` only), in the units of ``y``.""",
        [Interval(Real, 0, None, closed="neither")],
    ),
    Parameter(
        "quantile",
        "float or array-like of float, default=None",
        """\
        The quantile level(s) predicted with ``loss='quantile'`` (required
        there, ignored otherwise), each in (0, 1): ``0.9`` predicts the 90th
        percentile of ``y`` given ``X``, as
        :class:`~sklearn.ensemble.HistGradientBoostingRegressor`'s
        ``quantile`` does. A list, such as ``[0.05, 0.5, 0.95]``, trains one
        network with an output per level and target: ``predict`` then returns
        shape ``(n_samples, n_quantiles)`` for one target and ``(n_samples,
        n_targets, n_quantiles)`` for several, columns in the order given.
        The predicted quantiles never cross: each row's predictions are
        sorted by level (Chernozhukov, Fernandez-Val & Galichon's
        rearrangement, 2010). Early stopping watches the negative mean
        pinball loss of the levels (``validation_scores_``), not
        :math:`R^2`, which rewards predictions near the mean.""",
        [Interval(Real, 0, 1, closed="neither"), "array-like", None],
    ),
)

COMMON_PARAMETERS = documented(COMMON)

COMMON_ATTRIBUTES = """\
    coefs_ : list of ndarray of shape (n_in, n_out)
        Weight matrix of each layer. Assigning it changes the predictions.

    intercepts_ : list of ndarray of shape (n_out,)
        Bias vector of each layer.

    loss_ : float
        Loss (data term plus L2 penalty) at the end of fitting.

    best_loss_ : float or None
        Lowest training loss reached; ``None`` with early stopping.

    loss_curve_ : list of float
        Loss after each iteration (for every solver, lbfgs included).

    validation_scores_ : list of float or None
        Score on the held-out set after each epoch with early stopping.

    best_validation_score_ : float or None
        Best of ``validation_scores_``.

    validation_loss_curve_ : list of float or None
        Loss on the validation set after each epoch (or L-BFGS iteration),
        entry for entry with ``loss_curve_``: the same loss without the L2
        penalty, for the whole network (no dropout). Set once a fit uses a
        validation set (early stopping's split, or ``X_val`` given to
        ``fit``), None before; epochs without one (``partial_fit``, a
        warm-start fit without ``X_val``) hold NaN.

    t_ : int
        Number of training rows seen by the stochastic solver.

    n_iter_ : int
        Iterations run by the solver in the last call.

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of output units.

    out_activation_ : str
        Name of the output activation.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when ``X`` has string column
        names.
"""

REGRESSION_LOSS = documented(REGRESSOR[:1])
LOSS_CONSTANTS = documented(REGRESSOR[1:])
CLASS_WEIGHT = documented(CLASSIFIER)
