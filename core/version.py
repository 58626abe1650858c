"""sublarr's version, written here and nowhere else.

pyproject.toml reads it (setuptools' ``attr:``, which parses this file without importing
sublarr), so the installed distribution's version and ``sublarr.core.__version__`` are
this one string. Keep this module free of imports.
"""

__version__ = "0.2.0.dev0"
