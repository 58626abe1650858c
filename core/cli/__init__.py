"""The ``sublarr`` command line: the root group in ``main``, one module per command group."""

from __future__ import annotations

from sublarr.core.cli.main import cli, main

__all__ = ["cli", "main"]
