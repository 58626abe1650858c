"""`sublarr plugins new NAME`: the package it writes installs, is found, and passes its own tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import REPO_ROOT, VENV_BIN, pip_install_target, run_sublarr

WALK_THROUGH = (
    (REPO_ROOT / "PLUGINS.md").read_text().split("## From `sublarr plugins new`", 1)[1].split("\n## ", 1)[0]
)


def _apply_step_3(package):
    """Make the changes PLUGINS.md's step 3 describes: a keep_days setting and its test."""
    blocks = re.findall(r"```python\n(.*?)```", WALK_THROUGH, re.S)
    module_block = next(b for b in blocks if b.startswith("# sublarr_backup/__init__.py"))
    test_block = next(b for b in blocks if b.startswith("# tests/test_sublarr_backup.py"))
    module = package / "sublarr_backup" / "__init__.py"
    declared = module_block.split("def register_settings(register):\n", 1)[1]
    text = module.read_text()
    start = text.index("def register_settings(register):\n") + len("def register_settings(register):\n")
    end = text.index("\n\n", start)
    module.write_text(text[:start] + declared.rstrip("\n") + text[end:])
    tests = package / "tests" / "test_sublarr_backup.py"
    assert '`"keep_days": 30` there' in WALK_THROUGH
    text = tests.read_text().replace('{"greeting": "Hello"}', '{"greeting": "Hello", "keep_days": 30}')
    tests.write_text(text + "\n\n" + test_block.split("\n", 1)[1])


def test_plugins_new_says_what_plugins_md_shows(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUBLARR_")}
    command = re.search(r"\$ (sublarr plugins new .*)\n((?:.*\n)*?)\$ cd", WALK_THROUGH)
    assert command is not None
    args = ["backup", "--description", "Back up subtitles"]
    assert command.group(1) == "sublarr plugins new " + " ".join(
        a if " " not in a else f'"{a}"' for a in args
    )
    out = subprocess.run(
        [str(VENV_BIN / "sublarr"), "plugins", "new", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == command.group(2)


def test_a_generated_plugin_installs_and_passes_its_own_tests(tmp_path):
    made = run_sublarr(
        "plugins", "new", "release-groups", "-d", str(tmp_path), "--description", "Prefer groups"
    )
    assert made.returncode == 0, made.stderr
    package = tmp_path / "sublarr-release-groups"
    backup = run_sublarr("plugins", "new", "backup", "-d", str(tmp_path))
    assert backup.returncode == 0, backup.stderr
    _apply_step_3(tmp_path / "sublarr-backup")
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
    backup_site = tmp_path / "backup-site"
    pip_install_target(tmp_path / "sublarr-backup", backup_site, cwd=tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(backup_site)])}
    env = {k: v for k, v in env.items() if not k.startswith("SUBLARR_")}
    # The generated tests pass; so do those of PLUGINS.md's step 3 (a setting added).
    for folder, passed in ((package, "5 passed"), (tmp_path / "sublarr-backup", "6 passed")):
        tests = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert tests.returncode == 0, tests.stdout + tests.stderr
        assert passed in tests.stdout

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
