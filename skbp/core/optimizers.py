r"""Stochastic optimizers: update the parameters in place from their gradients.

Same interface and update rules as scikit-learn's MLP optimizers:
``update(params, grads)`` after each batch, ``iteration_ends(t)`` after each
epoch (``t`` = samples seen), ``trigger_stopping(msg, verbose)`` when the
loss stalls. Parameters are updated in place and keep their dtype.

Parameters, gradients and the optimizers' state are ndarrays or arrays of
another array-API library (PyTorch, CuPy, ...), all of one library and
device: each step is written once, against the namespace ``xp`` of the
parameters (:mod:`skbp.core.namespace`), and the state arrays are made with
``xp.zeros_like``, in the parameters' library and on their device.

Every update is a few in-place operations. BLAS's ``axpy`` (through
``scipy.linalg.blas``) would fuse ``y += a * x`` into one pass, but scipy
ships its own OpenBLAS: calling it between numpy's matrix products makes two
BLAS thread pools contend for the cores, and a fit measured 30 times slower
with BLAS on two threads. Hence no scipy BLAS in the training loop.
"""

import math

import numpy as np

from .namespace import namespace_of

__all__ = ["Optimizer", "SGD", "Adam", "OPTIMIZERS", "LEARNING_RATE_SCHEDULES"]

LEARNING_RATE_SCHEDULES = ("constant", "invscaling", "adaptive")


class Optimizer:
    r"""Base class: a stochastic optimizer stepping the parameters in place.

    Subclasses set ``name`` and implement :meth:`update`; a constructor
    takes the parameters, then keywords with defaults, which the estimators
    fill from their hyperparameters of the same meaning (``solver`` picks the
    class by ``name``, from :data:`OPTIMIZERS`).

    Parameters
    ----------
    learning_rate_init : float
        :math:`\eta_0`, the initial learning rate.

    Attributes
    ----------
    name : str
        The optimizer's name in :data:`OPTIMIZERS` (the estimators'
        ``solver``).
    learning_rate : float
        The current learning rate :math:`\eta`.
    """

    name = "optimizer"

    def __init__(self, learning_rate_init):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self._scratch = None  # working arrays, made on first need

    def update(self, params, grads, overwrite_grads=False):
        r"""Apply one step to each array of ``params`` in place.

        The rule is elementwise, so any list of arrays works; the estimators
        pass flat vectors: ``params`` is ``[theta]``, every weight then
        every bias packed into one vector in the layout of
        :class:`~skbp.core.layout.ParameterLayout` (the fitted ``coefs_``
        and ``intercepts_`` are views into it), and ``grads`` is
        ``[dtheta]``, the gradient in the same layout. One step is then a
        few operations on one long vector instead of a few per array.

        Parameters
        ----------
        params : list of ndarray
            The parameters, updated in place (they keep their dtype): one
            flat vector of shape (n_parameters,) from the estimators.
        grads : list of ndarray
            Gradient :math:`d\theta` of the loss for each array of
            ``params``, same shapes and layout.
        overwrite_grads : bool, default=False
            The gradients are the caller's scratch (a training loop computes
            new ones for every batch): the step may use them as its working
            memory instead of arrays of its own the size of the parameters.
        """
        raise NotImplementedError

    def _work(self, index, grad, overwrite_grads, xp):
        """A working copy of ``grad``: ``grad`` itself when it may be
        overwritten, else a scratch array (allocated once) holding a copy."""
        if overwrite_grads:
            return grad
        if self._scratch is None:
            self._scratch = {}
        work = self._scratch.get(index)
        if work is None or work.shape != grad.shape or work.dtype != grad.dtype:
            work = self._scratch[index] = xp.empty_like(grad)
        xp.copyto(work, grad)
        return work

    def iteration_ends(self, time_step):
        """Hook called at the end of each epoch; ``time_step`` = samples seen."""

    def trigger_stopping(self, msg, verbose):
        """Decide whether a stalled loss stops training; returns True to stop."""
        if verbose:
            print(msg + " Stopping.")
        return True


class SGD(Optimizer):
    r"""Stochastic gradient descent with (Nesterov) momentum.

    With learning rate :math:`\eta`, momentum :math:`\mu` and gradient
    :math:`d\theta`: the velocity first, then the step with the *updated*
    velocity; the formula is in :meth:`update`.

    Schedules: ``constant``; ``invscaling``,
    :math:`\eta = \eta_0 / (N + 1)^{\rho}` after each epoch, :math:`N` rows
    seen, :math:`\rho` = ``power_t`` (:meth:`iteration_ends`); ``adaptive``,
    :math:`\eta \leftarrow \eta / 5` each time the loss stalls, stopping
    once :math:`\eta \le 10^{-6}` (:meth:`trigger_stopping`).

    Parameters
    ----------
    params : list of ndarray
    learning_rate_init : float, default=0.1
    lr_schedule : {'constant', 'invscaling', 'adaptive'}, default='constant'
    momentum : float, default=0.9
    nesterov : bool, default=True
    power_t : float, default=0.5
    """

    name = "sgd"

    def __init__(
        self,
        params,
        learning_rate_init=0.1,
        lr_schedule="constant",
        momentum=0.9,
        nesterov=True,
        power_t=0.5,
    ):
        super().__init__(learning_rate_init)
        if lr_schedule not in LEARNING_RATE_SCHEDULES:
            raise ValueError(f"Unknown learning-rate schedule {lr_schedule!r}.")
        self.lr_schedule = lr_schedule
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.power_t = float(power_t)
        xp = namespace_of(*params)
        self.velocities = [xp.zeros_like(p) for p in params]

    def update(self, params, grads, overwrite_grads=False):
        r"""One step on every array of ``params``, in place, the velocity first.

        .. math::

            v \leftarrow \mu v - \eta\, d\theta, \qquad
            \theta \leftarrow \theta + \begin{cases}
                \mu v - \eta\, d\theta & \text{Nesterov} \\
                v & \text{otherwise}
            \end{cases}

        Both steps read the velocity just updated. With :math:`\mu = 0`
        both are :math:`\theta \leftarrow \theta - \eta\, d\theta`.
        The parameters are those of :meth:`Optimizer.update`.
        """
        # The same operations as scikit-learn's SGDOptimizer, written into a
        # working copy of the gradient (the gradient itself when allowed).
        xp = namespace_of(params[0])
        lr, mu = self.learning_rate, self.momentum
        for i, (param, grad, velocity) in enumerate(
            zip(params, grads, self.velocities)
        ):
            lr_grad = self._work(i, grad, overwrite_grads, xp)
            lr_grad *= lr
            if mu == 0:
                # Plain gradient descent: no velocity to keep.
                param -= lr_grad
                continue
            velocity *= mu
            velocity -= lr_grad
            if self.nesterov:
                # theta += mu v - lr g, as theta - lr g then + mu v: the
                # working array then holds mu v (lr g is no longer needed).
                param -= lr_grad
                param += xp.multiply(velocity, mu, out=lr_grad)
            else:
                param += velocity

    def iteration_ends(self, time_step):
        r"""End of an epoch: ``invscaling`` sets :math:`\eta = \eta_0 / (N + 1)^{\rho}`.

        Parameters
        ----------
        time_step : int
            :math:`N`, the training rows seen so far (``power_t`` is
            :math:`\rho`). Other schedules keep :math:`\eta`.
        """
        if self.lr_schedule == "invscaling":
            try:
                scale = (time_step + 1) ** self.power_t
            except OverflowError:  # a huge power_t: the rate is 0
                scale = float("inf")
            self.learning_rate = self.learning_rate_init / scale

    def trigger_stopping(self, msg, verbose):
        r"""The loss stalled: ``adaptive`` sets :math:`\eta \leftarrow \eta / 5`.

        Called after ``n_iter_no_change + 1`` consecutive epochs without an
        improvement of at least ``tol``. Stops (returns True) when the
        schedule is not ``adaptive``, or once :math:`\eta \le 10^{-6}`.

        Parameters
        ----------
        msg : str
            What stalled, printed when ``verbose``.
        verbose : bool

        Returns
        -------
        bool
            True to stop training.
        """
        if self.lr_schedule != "adaptive":
            return super().trigger_stopping(msg, verbose)
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + f" Setting learning rate to {self.learning_rate:f}")
        return False


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2014).

    Running means :math:`\phi` of the gradient :math:`d\theta` and
    :math:`\psi` of its square (Kingma & Ba's :math:`m` and :math:`v`;
    renamed because :math:`m` is the batch size in :doc:`/backprop`),
    :math:`t` the number of updates; the formula is in :meth:`update`.

    Parameters
    ----------
    params : list of ndarray
    learning_rate_init : float, default=0.001
    beta_1, beta_2 : float, default=0.9, 0.999
    epsilon : float, default=1e-8
    """

    name = "adam"

    def __init__(
        self, params, learning_rate_init=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8
    ):
        super().__init__(learning_rate_init)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.t = 0
        xp = namespace_of(*params)
        self.ms = [xp.zeros_like(p) for p in params]
        self.vs = [xp.zeros_like(p) for p in params]

    def update(self, params, grads, overwrite_grads=False):
        r"""One step on every array of ``params``, in place; :math:`t` counts them.

        .. math::

            \phi \leftarrow \beta_1 \phi + (1 - \beta_1)\, d\theta, \qquad
            \psi \leftarrow \beta_2 \psi + (1 - \beta_2)\, d\theta \odot d\theta, \\
            \eta_t = \eta_0 \sqrt{1 - \beta_2^t} / (1 - \beta_1^t), \qquad
            \theta \leftarrow \theta - \eta_t \, \phi / (\sqrt{\psi} + \epsilon)

        The parameters are those of :meth:`Optimizer.update`.
        """
        xp = namespace_of(params[0])
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        # A Python float keeps float32 parameters in float32.
        self.learning_rate = float(
            self.learning_rate_init * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        )
        eps, lr = self.epsilon, self.learning_rate
        # (1 - b2) g^2 from the array holding (1 - b1) g: rescaled to
        # sqrt(1 - b2) g, then squared, so one working array serves every
        # step below (and nothing smaller than (1 - b1) g is ever formed).
        to_root_b2 = math.sqrt(1 - b2) / (1 - b1)  # a Python float: float32 stays
        for i, (param, grad, m, v) in enumerate(zip(params, grads, self.ms, self.vs)):
            work = self._work(i, grad, overwrite_grads, xp)
            # m = b1 m + (1 - b1) g
            m *= b1
            work *= 1 - b1
            m += work
            # v = b2 v + (1 - b2) g^2
            v *= b2
            work *= to_root_b2
            work *= work
            v += work
            # theta -= lr_t m / (sqrt(v) + eps)
            xp.sqrt(v, out=work)
            work += eps
            xp.divide(m, work, out=work)
            work *= lr
            param -= work


#: Every optimizer by name: the stochastic values of the estimators' ``solver``.
OPTIMIZERS = {cls.name: cls for cls in (SGD, Adam)}
