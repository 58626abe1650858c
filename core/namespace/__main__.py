"""``python -m sublarr``: the ``sublarr`` command line.

This folder is installed as the ``sublarr`` namespace package itself (pyproject.toml maps
``sublarr`` to it). It has no ``__init__.py`` on purpose: ``sublarr`` stays a namespace
over ``core/`` and ``plugins/``, and this file is its only module.
"""

from __future__ import annotations

from sublarr.core.cli import main

if __name__ == "__main__":
    main()
