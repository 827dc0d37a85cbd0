"""The library's version, where both sides read it: the package's ``__version__`` and
the build's report (a child module: the build never imports the package's facade)."""

__version__ = "0.1.0.dev0"
