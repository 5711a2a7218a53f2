"""skbp's version: a leaf module, so that any module can read it without
importing the package (``skbp/__init__.py`` imports everything else)."""

__all__ = ["__version__"]

#: The installed skbp's version (``pyproject.toml`` declares the same).
__version__ = "0.1.0"
