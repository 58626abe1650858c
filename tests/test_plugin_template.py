"""`sublarr plugins new NAME`: the package it writes installs, is found, and passes its own tests."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import pip_install_target, run_sublarr


def test_a_generated_plugin_installs_and_passes_its_own_tests(tmp_path):
    made = run_sublarr(
        "plugins", "new", "release-groups", "-d", str(tmp_path), "--description", "Prefer groups"
    )
    assert made.returncode == 0, made.stderr
    package = tmp_path / "sublarr-release-groups"
    assert f"Wrote {package}" in made.stdout
    assert sorted(p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()) == [
        ".gitignore",
        "README.md",
        "pyproject.toml",
        "sublarr_release_groups/__init__.py",
        "tests/test_sublarr_release_groups.py",
    ]
    assert (
        '[project.entry-points."sublarr.plugins"]\nrelease-groups = "sublarr_release_groups"'
        in (package / "pyproject.toml").read_text()
    )

    site = tmp_path / "site"
    pip_install_target(package, site, cwd=tmp_path)
    env = {**os.environ, "PYTHONPATH": str(site)}
    env = {k: v for k, v in env.items() if not k.startswith("SUBLARR_")}
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "5 passed" in tests.stdout

    listed = run_sublarr("plugins", "--check", env={"PYTHONPATH": str(site)})
    assert listed.returncode == 0, listed.stderr
    assert "release-groups" in listed.stdout and "register_settings" in listed.stdout
    hello = run_sublarr(
        "release-groups-hello",
        "Ada",
        env={"PYTHONPATH": str(site), "SUBLARR_PLUGIN_RELEASE_GROUPS_GREETING": "Hi"},
    )
    assert hello.stdout == "Hi, Ada!\n", hello.stderr


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Bad Name", "use lower-case letters and digits"),
        ("-x", "use lower-case letters and digits"),
        ("sublarr-x", "leave out 'sublarr'"),
    ],
)
def test_bad_names_are_refused_and_nothing_is_written(tmp_path, name, message):
    out = run_sublarr("plugins", "new", "-d", str(tmp_path), "--", name)
    assert out.returncode == 1 and message in out.stderr and out.stderr.startswith("Error: ")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_not_overwritten(tmp_path):
    (tmp_path / "sublarr-backup").mkdir()
    (tmp_path / "sublarr-backup" / "keep.txt").write_text("mine")
    out = run_sublarr("plugins", "new", "backup", "-d", str(tmp_path))
    assert out.returncode == 1 and "already exists; nothing written" in out.stderr
    assert [p.name for p in (tmp_path / "sublarr-backup").iterdir()] == ["keep.txt"]
