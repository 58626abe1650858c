"""`pip install .` puts one package, `sublarr`, into site-packages, and nothing named core or plugins."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT

tomllib = pytest.importorskip("tomllib")


def test_every_source_folder_is_a_listed_package():
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = set()
    for top in ("core", "plugins"):
        for init in (REPO_ROOT / top).rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            rel = init.parent.relative_to(REPO_ROOT).parts
            found.add(".".join(("sublarr", *rel)))
    found.add("sublarr")  # the namespace itself: core/namespace/, only __main__.py (python -m sublarr)
    assert found == listed


def test_the_version_is_written_once():
    import sublarr.core
    from sublarr.core import version

    assert importlib.metadata.version("sublarr") == sublarr.core.__version__ == version.__version__
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert "version" not in config["project"] and "version" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "sublarr.core.version.__version__"}
    # PEP 440, as pip and the changelog write it
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?", sublarr.core.__version__)


def test_non_editable_install_layout(tmp_path: Path, installed_site):
    target = installed_site
    top_level = {p.name for p in target.iterdir()}
    assert "sublarr" in top_level
    assert "core" not in top_level and "plugins" not in top_level
    assert not (target / "sublarr" / "__init__.py").exists()  # a namespace over core/ and plugins/
    assert (target / "sublarr" / "core" / "hookspecs.py").is_file()
    assert (target / "sublarr" / "core" / "py.typed").is_file()  # PEP 561: type checkers read our hints
    assert (target / "sublarr" / "plugins" / "socketio_bridge.py").is_file()
    assert (target / "bin" / "sublarr").is_file()

    env = {**os.environ, "PYTHONPATH": str(target)}
    code = (
        "import importlib.metadata, sublarr.core, sublarr.plugins.socketio_bridge as b;"
        "print(sublarr.core.__file__); print(b.__file__);"
        "print(importlib.metadata.distribution('sublarr')._path)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert all(line.startswith(str(target)) for line in out.stdout.split())
    # The built distribution's version is read from core/version.py.
    from sublarr.core import __version__

    assert (target / f"sublarr-{__version__}.dist-info").is_dir()
