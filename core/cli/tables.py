"""Plain-text tables for the ``sublarr`` command line."""

from __future__ import annotations

from typing import Any


def format_table(rows: list[list[Any]], headers: list[str]) -> str:
    """Left-aligned columns under a header and a dashed rule, trailing spaces trimmed."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(x) for x in col) for col in zip(headers, *cells)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)
