"""The ``sublarr`` command line: the root group in ``main``, one module per command group.

A command (a plugin's too, added with ``register_commands``) gets the invocation's one
``Settings`` - global flags over the environment over the config file - from
``get_settings()``.
"""

from __future__ import annotations

from sublarr.core.cli.context import get_settings
from sublarr.core.cli.main import cli, main

__all__ = ["cli", "get_settings", "main"]
