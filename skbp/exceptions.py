"""Warnings raised by skbp (errors are plain ``ValueError`` and ``TypeError``).

- :class:`InconsistentVersionWarning`: a model saved or pickled by another
  skbp version was loaded.
- :class:`PersistenceWarning`: :func:`skbp.save` could not store a parameter
  as it is and stored a stand-in.
"""

__all__ = ["InconsistentVersionWarning", "PersistenceWarning"]


class InconsistentVersionWarning(UserWarning):
    """A model made by one skbp version was loaded by another.

    Pickles, ``skops`` files and :func:`skbp.save` files record the skbp
    version that wrote them. Loading them with another version may give a
    model that does not work, or silently predicts differently: refit the
    model with the installed version, or install the version that saved it.

    Parameters
    ----------
    estimator_name : str
        Name of the estimator's class.
    current_version : str
        The installed skbp version.
    original_version : str
        The version that wrote the model (``"unknown"`` for pickles written
        before skbp recorded its version).

    Attributes
    ----------
    estimator_name, current_version, original_version : str
        As passed.
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version
        super().__init__(str(self))

    def __str__(self):
        return (
            f"Trying to load {self.estimator_name} from skbp version "
            f"{self.original_version} when using version {self.current_version}. "
            "This might lead to breaking code or invalid results. Use at your own "
            "risk: refit the model with the installed version, or install the "
            "version that saved it."
        )


class PersistenceWarning(UserWarning):
    """:func:`skbp.save` stored a stand-in for a parameter it cannot store.

    The saved format holds plain data only; a ``random_state`` given as a
    ``numpy.random.RandomState`` or ``Generator`` instance is stored as
    ``None``. The loaded model predicts exactly as the saved one; only a
    refit draws different initial weights. Pass an int ``random_state`` to
    keep refits reproducible.
    """
