"""The seed tutorial's sine fit, set up in one place.

``python -m skbp`` and the gallery example
:ref:`sphx_glr_auto_examples_plot_sine_fit.py` both start from
:func:`seed_sine_setup`, so the two cannot drift apart.
"""

import numpy as np

from ._estimators.regressor import BPRegressor

__all__ = ["seed_sine_setup"]


def seed_sine_setup():
    r"""The seed tutorial's data and network, ready to fit.

    The seed trains a network with one hidden layer of 25 logistic units
    and an identity output (``[1, 25, 1]``) by full-batch gradient descent,
    learning rate 0.3 for 4000 iterations, on

    .. math:: y = 20 \sin(2 \pi x), \qquad x = 0.00, 0.01, \dots, 0.99

    with the targets not rescaled. The regressor returned runs exactly that
    loop: ``solver="sgd"`` with one batch holding every row, no momentum,
    no L2 penalty, no shuffling and no early stop (``tol=0`` and
    ``n_iter_no_change=max_iter``), from ``random_state=0``. Fitting it
    warns that it stopped at ``max_iter`` (a
    :class:`~sklearn.exceptions.ConvergenceWarning`): 4000 iterations is
    the seed's protocol, not a failure to converge.

    Returns
    -------
    x : ndarray of shape (100, 1)
        The inputs, one row per sample.
    y : ndarray of shape (100,)
        The targets :math:`20 \sin(2 \pi x)`.
    reg : BPRegressor
        Not fitted yet.
    """
    x = np.arange(0.0, 1.0, 0.01).reshape(-1, 1)
    y = 20 * np.sin(2 * np.pi * x).ravel()
    reg = BPRegressor(
        hidden_layer_sizes=(25,),
        activation="logistic",
        solver="sgd",
        learning_rate_init=0.3,
        momentum=0.0,
        batch_size=len(x),  # full batch, as in the seed
        alpha=0.0,
        max_iter=4000,
        tol=0.0,
        n_iter_no_change=4000,
        shuffle=False,
        random_state=0,
    )
    return x, y, reg
