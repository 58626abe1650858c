"""`sublarr install` / `sublarr uninstall`: pip in sublarr's own interpreter, then what loaded.

Run in a throwaway environment (a venv whose interpreter sees this sublarr), from a wheel
built here: no network, and the test environment itself is never changed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "sublarr-example-plugin"


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    """A folder holding the example plugin's wheel (built from a copy of its source)."""
    source = tmp_path_factory.mktemp("example-src") / "src"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    out = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            ".",
        ],
        cwd=source,
        check=True,
        capture_output=True,
        timeout=300,
        env={**os.environ, "PIP_NO_CACHE_DIR": "1"},
    )
    assert [p.name for p in out.glob("sublarr_example_plugin-*.whl")]
    return out


@pytest.fixture
def venv(tmp_path) -> Path:
    """A new venv's python that also sees the packages of the running one (sublarr, pip)."""
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=120)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    assert ours in site.getsitepackages() or ours in sys.path
    Path(purelib, "_sublarr_under_test.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    return python


def _sublarr(python: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUBLARR_", "PYTHON", "PIP_"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run(
        [str(python), "-m", "sublarr", *args], capture_output=True, text=True, timeout=300, env=env, cwd=cwd
    )


def _installed_beside() -> bool:
    """The example is installed in the environment running the tests too (the venv sees it)."""
    return importlib.util.find_spec("sublarr_example_plugin") is not None


def test_install_then_uninstall_a_plugin_wheel(venv, wheels):
    # pip's options pass through: -I --no-deps install it into the venv even when the
    # environment running the tests has the example too (and leave sublarr alone).
    installed = _sublarr(
        venv,
        "install",
        "-I",
        "--no-deps",
        "--no-index",
        "--find-links",
        str(wheels),
        "sublarr-example-plugin",
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "Successfully installed sublarr-example-plugin-0.3.0" in installed.stdout
    listing = installed.stdout.split("Successfully installed", 1)[1]
    assert "example" in listing and "loaded" in listing  # what loaded, after pip
    site_dir = venv.parent.parent / "lib"
    assert list(site_dir.glob("python*/site-packages/sublarr_example_plugin/__init__.py"))
    hello = _sublarr(venv, "example-hello", "Ada")
    assert hello.stdout == "Hello, Ada, from sublarr-example-plugin!\n", hello.stderr

    # -U and friends pass through to pip.
    again = _sublarr(venv, "install", "-U", "--no-index", "-f", str(wheels), "sublarr-example-plugin")
    assert again.returncode == 0, again.stderr

    removed = _sublarr(venv, "uninstall", "-y", "sublarr-example-plugin")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert "Successfully uninstalled sublarr-example-plugin-0.3.0" in removed.stdout
    assert not list(site_dir.glob("python*/site-packages/sublarr_example_plugin"))
    if not _installed_beside():
        assert "No third-party plugins installed" in removed.stdout
        assert _sublarr(venv, "example-hello").returncode == 2  # the command went with it


def test_failures_and_refusals(venv, wheels):
    missing = _sublarr(venv, "install", "--no-index", "--find-links", str(wheels), "sublarr-no-such-plugin")
    assert missing.returncode == 1
    assert "Error: pip install failed" in missing.stderr
    itself = _sublarr(venv, "uninstall", "-y", "sublarr")
    assert itself.returncode == 1
    assert "Error: refusing to uninstall sublarr itself" in itself.stderr
    assert _sublarr(venv, "install").returncode == 2  # a name is required
