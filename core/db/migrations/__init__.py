"""Alembic migrations shipped inside the package (``env.py`` and ``versions/``)."""

from __future__ import annotations

from typing import Any


def compare_server_default(
    context: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected_default: str | None,
    metadata_default: Any,
    rendered_metadata_default: str | None,
) -> bool | None:
    """Alembic's server-default comparison, except that ``DEFAULT NULL`` equals no default.

    PostgreSQL does not keep an explicit ``DEFAULT NULL``; without this, autogenerate
    would report the plan's ``exit_code``/``status_code`` defaults as changed there.
    """
    if inspected_default is None and rendered_metadata_default in ("NULL", "'NULL'"):
        return False
    return None
