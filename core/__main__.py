"""``python -m sublarr.core``: the ``sublarr`` command line."""

from __future__ import annotations

from sublarr.core.cli import main

if __name__ == "__main__":
    main()
