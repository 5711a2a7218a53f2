r"""The flat parameter vector: where each weight and bias sits in it.

Optimizers step, L-BFGS searches and checkpoints copy one vector
:math:`\theta`; the network reads lists of arrays. :class:`ParameterLayout`
is the one place that says how the two correspond: all weights first, then
all biases, each array flattened in C order (row by row), as scikit-learn's
MLP does.

.. math:: \theta = \big(\operatorname{vec} W_1, \dots,
          \operatorname{vec} W_L,\ b_1, \dots, b_L\big)

A gradient vector uses the same layout, so that an optimizer can pair
parameters and gradients element by element.

The arrays are numpy arrays or arrays of another array-API library
(PyTorch, CuPy, ...; "ndarray" below means either): a flat vector is made
in the parameters' library, on their device, and views of a flat vector are
in its library.
"""

import itertools
import math

import numpy as np

from .namespace import NUMPY, device, library_dtype, namespace_of

__all__ = ["ParameterLayout", "pack", "unpack", "packed_views"]


class ParameterLayout:
    r"""Offsets of the weights and biases in one flat vector :math:`\theta`.

    .. math:: \theta = \big(\operatorname{vec} W_1, \dots,
              \operatorname{vec} W_L,\ b_1, \dots, b_L\big)

    Weights first, then biases; each array flattened in C order (row by row).

    Parameters
    ----------
    coef_shapes : sequence of tuple of int
        Shape of each weight matrix :math:`W_l`, usually
        ``(n_{l-1}, n_l)``.
    intercept_shapes : sequence of tuple of int
        Shape of each bias vector :math:`b_l`, usually ``(n_l,)``.

    Attributes
    ----------
    shapes : tuple of tuple of int
        Shapes of all the arrays in their order in :math:`\theta`:
        ``W_1, ..., W_L, b_1, ..., b_L``.
    offsets : tuple of int
        ``offsets[i]:offsets[i + 1]`` is where array ``i`` sits in
        :math:`\theta`; ``len(shapes) + 1`` entries, from 0 to ``size``.
    size : int
        ``n_parameters``, the length of :math:`\theta`.
    n_layers : int
        Number of weight matrices (and of bias vectors), :math:`L`.

    Examples
    --------
    >>> import numpy as np
    >>> from skbp.core import ParameterLayout
    >>> layout = ParameterLayout.from_layer_units([3, 4, 2])
    >>> layout.size
    26
    >>> theta = np.arange(layout.size, dtype=float)
    >>> coefs, intercepts = layout.views(theta)
    >>> [W.shape for W in coefs], [b.shape for b in intercepts]
    ([(3, 4), (4, 2)], [(4,), (2,)])
    >>> intercepts[1]
    array([24., 25.])
    """

    def __init__(self, coef_shapes, intercept_shapes):
        if len(coef_shapes) != len(intercept_shapes):
            raise ValueError(
                f"one bias per weight matrix: got {len(coef_shapes)} weight "
                f"shapes and {len(intercept_shapes)} bias shapes."
            )
        self.n_layers = len(coef_shapes)
        self.shapes = tuple(
            tuple(int(n) for n in shape) for shape in (*coef_shapes, *intercept_shapes)
        )
        sizes = [math.prod(shape) for shape in self.shapes]
        self.offsets = tuple(itertools.accumulate(sizes, initial=0))
        self.size = self.offsets[-1]
        self._parts = tuple(
            (slice(start, stop), shape)
            for start, stop, shape in zip(self.offsets, self.offsets[1:], self.shapes)
        )

    @classmethod
    def from_layer_units(cls, layer_units):
        """The layout of a network with widths ``layer_units``.

        Parameters
        ----------
        layer_units : sequence of int
            ``[n_features, n_hidden_1, ..., n_outputs]``: :math:`W_l` has
            shape ``(n_{l-1}, n_l)`` and :math:`b_l` shape ``(n_l,)``.

        Returns
        -------
        ParameterLayout
        """
        units = [int(n) for n in layer_units]
        return cls(list(zip(units[:-1], units[1:])), [(n,) for n in units[1:]])

    @classmethod
    def of(cls, coefs, intercepts):
        """The layout of the arrays ``coefs`` and ``intercepts`` (their shapes).

        Parameters
        ----------
        coefs, intercepts : lists of ndarray

        Returns
        -------
        ParameterLayout
        """
        return cls([W.shape for W in coefs], [b.shape for b in intercepts])

    def __eq__(self, other):
        if not isinstance(other, ParameterLayout):
            return NotImplemented
        return (self.n_layers, self.shapes) == (other.n_layers, other.shapes)

    def __hash__(self):
        return hash((self.n_layers, self.shapes))

    def __repr__(self):
        coefs, intercepts = self.shapes[: self.n_layers], self.shapes[self.n_layers :]
        return f"ParameterLayout({list(coefs)}, {list(intercepts)})"

    def empty(self, dtype=np.float64, like=None):
        """A new, uninitialised flat vector of shape ``(size,)``.

        Parameters
        ----------
        dtype : dtype, default=np.float64
            A numpy dtype (or its name), or one of ``like``'s library.
        like : ndarray, optional
            An array of the library and device to make the vector in (the
            parameters, or the training data); by default numpy.

        Returns
        -------
        flat : ndarray of shape (size,)
        """
        if like is None:
            return np.empty(self.size, dtype)
        xp = namespace_of(like)
        dtype = library_dtype(xp, dtype)
        return xp.empty((self.size,), dtype=dtype, device=device(like))

    def _split(self, flat):
        """Each array's part of ``flat``, reshaped: views of it."""
        if flat.shape != (self.size,):
            raise ValueError(
                f"expected {self.size} parameters, got an array of shape {flat.shape}"
            )
        xp = namespace_of(flat)
        parts = [_reshaped(xp, flat[where], shape) for where, shape in self._parts]
        return parts[: self.n_layers], parts[self.n_layers :]

    def views(self, flat):
        """``W_1, ..., W_L`` and ``b_1, ..., b_L`` as views of ``flat``.

        Writing into a view writes into ``flat`` and back: an optimizer
        stepping ``flat`` steps every array at once.

        Parameters
        ----------
        flat : ndarray of shape (size,)

        Returns
        -------
        coefs, intercepts : lists of ndarray
            Views of ``flat`` with the layout's shapes and ``flat``'s dtype,
            in its library and on its device.
        """
        # A slice of a vector reshaped in C order is always a view.
        return self._split(flat)

    def _check(self, coefs, intercepts):
        found = (len(coefs), [a.shape for a in (*coefs, *intercepts)])
        if found != (self.n_layers, list(self.shapes)):
            raise ValueError(f"arrays of shapes {found[1]} do not fit {self!r}")

    def pack(self, coefs, intercepts, out=None, dtype=None):
        """Weights then biases, copied into one flat vector.

        Parameters
        ----------
        coefs, intercepts : lists of ndarray
            Arrays with the layout's shapes, of one library and device.
        out : ndarray of shape (size,), optional
            Written in place (casting within a kind, e.g. float64 to
            float32) and returned; by default a new vector, in the arrays'
            library and on their device.
        dtype : dtype, optional
            Of the new vector (without ``out``): a numpy dtype (or its name)
            or one of the arrays' library; by default that of the arrays.

        Returns
        -------
        flat : ndarray of shape (size,)
        """
        self._check(coefs, intercepts)
        xp = namespace_of(*coefs, *intercepts)
        parts = [_reshaped(xp, a, (-1,)) for a in (*coefs, *intercepts)]
        return _concatenated(xp, parts, dtype, out)

    def unpack(self, flat, out=None):
        """The weights and biases cut out of ``flat``, as copies.

        Parameters
        ----------
        flat : ndarray of shape (size,)
        out : tuple (coefs, intercepts) of lists of ndarray, optional
            Arrays with the layout's shapes, in ``flat``'s library and on its
            device, overwritten in place (cast to their dtype) and returned;
            by default new arrays of ``flat``'s dtype, library and device,
            sharing no memory with it.

        Returns
        -------
        coefs, intercepts : lists of ndarray
        """
        parts = self._split(flat)
        xp = namespace_of(flat)
        if out is None:
            return tuple(
                [xp.asarray(part, copy=True) for part in group] for group in parts
            )
        self._check(*out)
        for target, part in zip((*out[0], *out[1]), (*parts[0], *parts[1])):
            if xp is NUMPY:
                target[...] = part  # casts, and is faster than np.copyto
            else:
                xp.copyto(target, part)
        return out


def _reshaped(xp, a, shape):
    """``a`` reshaped (a view where the standard allows one).

    numpy's method skips ``np.reshape``'s dispatch: several times faster on
    the few small arrays of a network. The standard has only the function.
    """
    return a.reshape(shape) if xp is NUMPY else xp.reshape(a, shape)


def _concatenated(xp, parts, dtype=None, out=None):
    """``parts`` end to end, as ``dtype`` or into ``out``.

    numpy casts and writes into ``out`` in the same pass as it concatenates;
    other libraries concatenate, then cast or copy.
    """
    if xp is NUMPY:
        if out is None:
            return np.concatenate(parts, dtype=dtype)
        return np.concatenate(parts, out=out, casting="same_kind")
    flat = xp.concat(parts)
    if dtype is not None:
        dtype = library_dtype(xp, dtype)
        flat = flat if flat.dtype == dtype else xp.astype(flat, dtype)
    if out is None:
        return flat
    if out.shape != flat.shape:
        raise ValueError(
            f"out has shape {tuple(out.shape)}; the parameters need {tuple(flat.shape)}"
        )
    xp.copyto(out, flat)
    return out


def pack(coefs, intercepts):
    r"""Concatenate weights then biases into one flat vector :math:`\theta`.

    .. math:: \theta = \big(\operatorname{vec} W_1, \dots,
              \operatorname{vec} W_L,\ b_1, \dots, b_L\big)

    Each array flattened in C order (row by row), as scikit-learn does:
    :meth:`ParameterLayout.pack` for the layout of ``coefs`` and
    ``intercepts``.

    Parameters
    ----------
    coefs, intercepts : lists of ndarray

    Returns
    -------
    theta : ndarray of shape (n_parameters,)
    """
    return ParameterLayout.of(coefs, intercepts).pack(coefs, intercepts)


def unpack(theta, coefs, intercepts):
    r"""Copy the flat vector ``theta`` into ``coefs`` and ``intercepts`` in place.

    The inverse of :func:`pack`: :math:`\theta` is cut back into
    :math:`W_1, \dots, W_L, b_1, \dots, b_L` (:meth:`ParameterLayout.unpack`).

    Parameters
    ----------
    theta : ndarray of shape (n_parameters,)
    coefs, intercepts : lists of ndarray
        Arrays whose shapes define the layout; overwritten.

    Raises
    ------
    ValueError
        If ``theta`` does not hold exactly as many parameters as the arrays.
    """
    ParameterLayout.of(coefs, intercepts).unpack(theta, out=(coefs, intercepts))


def packed_views(coefs, intercepts):
    """Copy the parameters into one flat vector and return views into it.

    The stochastic optimizers then update every parameter with one
    operation per step on the flat vector, instead of one per array.

    Parameters
    ----------
    coefs, intercepts : lists of ndarray

    Returns
    -------
    flat : ndarray of shape (n_parameters,)
        The layout of :func:`pack`.
    coef_views, intercept_views : lists of ndarray
        Views of ``flat`` with the shapes of ``coefs`` and ``intercepts``.
    """
    layout = ParameterLayout.of(coefs, intercepts)
    flat = layout.pack(coefs, intercepts)
    return (flat, *layout.views(flat))
