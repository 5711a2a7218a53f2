"""Preallocated buffers for training, so a batch allocates (almost) nothing.

The math does not change: :func:`skbp.core.network.backprop` runs the same
building blocks, only writing into these arrays through their ``out=``
arguments. A workspace belongs to one training loop; prediction never uses
one, which keeps a fitted model safe to share between threads.

The buffers are numpy arrays, or arrays of another array-API library on
another device (``like=``): those of the data they will hold.
"""

from .layout import ParameterLayout
from .namespace import NUMPY, device, library_dtype, namespace_of

__all__ = ["Workspace"]


class Workspace:
    """Buffers for the forward and backward pass of one network.

    Parameters
    ----------
    layer_units : sequence of int
        ``[n_features, n_hidden_1, ..., n_outputs]``.
    max_rows : int
        Largest batch the buffers must hold; smaller batches use leading
        row slices (contiguous views).
    dtype : dtype
        A numpy dtype (or its name), or one of ``like``'s library.
    in_place : sequence of bool, optional
        One flag per layer: True where the activation may overwrite its
        pre-activation (``A`` and ``Z`` share one buffer), saving one
        ``(max_rows, n_l)`` buffer. Safe for a hidden layer whose activation
        has ``derivative_from_output`` and whose output is not masked by
        dropout (masking in place would change ``Z`` too); for the output
        layer, whose loss reads ``Z``, only when its activation is the
        identity (``A`` is then ``Z``). Default: no sharing.
    like : ndarray or sparse matrix, optional
        An array (typically the training data) whose library and device the
        buffers are made in; by default (and for a sparse matrix) numpy.

    Attributes
    ----------
    coef_grads, intercept_grads : lists of ndarray
        Gradient arrays, reused from batch to batch: copy them if you need to
        keep a batch's gradient.
    layout : ParameterLayout
        Where each weight and bias sits in a flat vector (weights then
        biases), for the network ``layer_units`` describes.
    flat_grads : ndarray of shape (n_parameters,)
        The same gradients as one vector in ``layout`` (``coef_grads`` and
        ``intercept_grads`` are views of it): an optimizer steps a flat
        parameter vector in that layout with it, element by element.
    """

    def __init__(self, layer_units, max_rows, dtype, in_place=None, like=None):
        widths = list(layer_units[1:])
        self.max_rows = int(max_rows)
        if in_place is None:
            in_place = [False] * len(widths)
        if len(in_place) != len(widths):
            raise ValueError(
                f"in_place needs one flag per layer ({len(widths)}); got "
                f"{list(in_place)!r}."
            )
        xp = namespace_of(like)
        dtype = library_dtype(xp, dtype)
        where = None if like is None else device(like)

        def empty(n):
            return xp.empty((self.max_rows, n), dtype=dtype, device=where)

        self._Z = [empty(n) for n in widths]
        self._A = [
            Z if shared else xp.empty_like(Z) for Z, shared in zip(self._Z, in_place)
        ]
        # Gradient flowing into layer l-1 has layer l's input width.
        self._dA = [None] + [empty(n) for n in widths[:-1]]
        self._dZL = empty(widths[-1])
        # One flat gradient vector in the parameters' layout, so that an
        # optimizer can step all parameters at once.
        self.layout = ParameterLayout.from_layer_units(layer_units)
        self.flat_grads = self.layout.empty(dtype, like=None if xp is NUMPY else like)
        self.coef_grads, self.intercept_grads = self.layout.views(self.flat_grads)
        self._views = {}

    def views(self, m):
        """Buffers for a batch of ``m`` rows.

        Returns
        -------
        forward_out : list of (Z, A) pairs, for ``L_model_forward``
        backward_out : tuple, for ``L_model_backward``
        dZL : ndarray of shape (m, n_outputs), for ``Loss.gradient``
        """
        if m > self.max_rows:
            raise ValueError(f"batch of {m} rows exceeds workspace of {self.max_rows}")
        # An epoch has at most two batch sizes: build their views once.
        views = self._views.get(m)
        if views is None:
            views = self._views[m] = self._make_views(m)
        return views

    def _make_views(self, m):
        forward_out = [(Z[:m, :], A[:m, :]) for Z, A in zip(self._Z, self._A)]
        dA = [None if buf is None else buf[:m, :] for buf in self._dA]
        backward_out = (self.coef_grads, self.intercept_grads, dA)
        return forward_out, backward_out, self._dZL[:m, :]
