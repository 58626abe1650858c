"""`sublarr score`, `sublarr weights ...`, `sublarr providers ...` on a real SQLite database."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sublarr.core.cli.main import cli

from conftest import run_sublarr


@pytest.fixture
def run(plugin_manager, sublarr_db):
    """Invoke the CLI in-process against the test database; returns the click Result."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # noqa: A002 - CliRunner.invoke's name
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


def stored():
    from sublarr.core.db.scoring import get_all_provider_modifiers, get_scoring_weights

    return ({t: get_scoring_weights(t) for t in ("episode", "movie")}, get_all_provider_modifiers())


# -- sublarr score ----------------------------------------------------------------------------


def test_score_prints_the_score(run):
    out = run("score", "--type", "episode", "--matches", "hash,series", "--provider", "opensubtitles")
    assert out.exit_code == 0, out.output
    assert out.output.strip() == "539"
    out = run("score", "--type", "movie", "--matches", "title, year", "--format", "ass")
    assert out.output.strip() == str(60 + 30 + 50)


def test_score_explain_uses_stored_weights_and_modifiers(run):
    assert run("weights", "set", "hash=400").exit_code == 0
    assert run("providers", "modifier", "opensubtitles", "-20").exit_code == 0
    out = run(
        "score", "--matches", "hash,series", "--provider", "opensubtitles", "--format", "ass", "--explain"
    )
    assert out.exit_code == 0, out.output
    assert "610 points (episode weights)" in out.output
    lines = {line.split()[1]: line for line in out.output.splitlines()[1:-1]}
    assert lines["hash"].split()[0] == "+400" and "db_weights" in lines["hash"]
    assert lines["provider:opensubtitles"].split()[0] == "-20"
    assert "provider_modifiers" in lines["provider:opensubtitles"]
    data = json.loads(run("score", "--matches", "hash", "--json").output)
    assert data["total"] == 400 and data["terms"][0]["source"] == "db_weights"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--matches", "hash,sereis"], "sereis"),
        (["--type", "movie", "--matches", "series"], "series"),
        (["--type", "anime"], "anime"),
        (["--provider", "bad/name"], "provider"),
    ],
)
def test_score_refuses_bad_input(run, args, message):
    out = run("score", *args)
    assert out.exit_code == 2
    assert message in out.output and "Error" in out.output


# -- sublarr weights --------------------------------------------------------------------------


def test_weights_set_show_reset(run):
    out = run("weights", "set", "hash=400", "series=-5")
    assert out.exit_code == 0, out.output
    assert "hash=400" in out.output
    assert run("weights", "set", "--type", "movie", "title=70").exit_code == 0
    assert stored()[0] == {"episode": {"hash": 400, "series": -5}, "movie": {"title": 70}}

    show = run("weights", "show", "--type", "episode")
    hash_row = next(line for line in show.output.splitlines() if line.startswith("hash "))
    assert hash_row.split() == ["hash", "359", "400", "db_weights"]
    data = json.loads(run("weights", "show", "--json").output)
    assert {w["key"]: w["value"] for w in data["movie"]}["title"] == 70
    assert {w["key"]: w["source"] for w in data["episode"]}["year"] == "default"

    assert run("weights", "reset", "--type", "movie").exit_code == 0
    assert stored()[0] == {"episode": {"hash": 400, "series": -5}, "movie": {}}
    assert run("weights", "reset").exit_code == 0
    assert stored()[0] == {"episode": {}, "movie": {}}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["hash"], 2, "KEY=VALUE"),
        (["hash=big"], 2, "not an integer"),
        (["hash=1001"], 1, "hash"),
        (["bogus=3"], 1, "bogus"),
        (["--type", "movie", "series=3"], 1, "series"),
        (["--type", "tv", "hash=3"], 2, "tv"),
        ([], 2, "Missing argument"),
    ],
)
def test_weights_set_refuses_bad_input_and_stores_nothing(run, args, code, message):
    out = run("weights", "set", *args)
    assert out.exit_code == code, out.output
    assert message in out.output
    assert stored() == ({"episode": {}, "movie": {}}, {})


def test_weights_export_and_import(run, tmp_path):
    run("weights", "set", "hash=400")
    run("providers", "modifier", "addic7ed", "12")
    preset_file = tmp_path / "preset.json"
    out = run("weights", "export", str(preset_file))
    assert out.exit_code == 0, out.output
    preset = json.loads(preset_file.read_text())
    assert preset["weights"]["episode"] == {"hash": 400}
    to_stdout = json.loads(run("weights", "export", "-").output)
    assert {k: v for k, v in to_stdout.items() if k != "exported_at"} == {
        k: v for k, v in preset.items() if k != "exported_at"
    }

    run("weights", "reset")
    run("providers", "remove", "addic7ed")
    assert stored() == ({"episode": {}, "movie": {}}, {})
    out = run("weights", "import", str(preset_file))
    assert out.exit_code == 0, out.output
    assert "1 episode" in out.output
    assert stored() == ({"episode": {"hash": 400}, "movie": {}}, {"addic7ed": 12})
    out = run("weights", "import", "-", input=json.dumps({**preset, "provider_modifiers": {}}))
    assert out.exit_code == 0, out.output
    assert stored()[1] == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        (
            '{"format": "sublarr-scoring-preset", "version": 1, "weights": {"episode": {"hash": "x"}}}',
            "weights.episode.hash",
        ),
        ('{"format": "other", "version": 1}', "format"),
    ],
)
def test_weights_import_refuses_bad_files_and_changes_nothing(run, tmp_path, content, message):
    run("weights", "set", "hash=400")
    before = stored()
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    out = run("weights", "import", str(bad))
    assert out.exit_code == 1
    assert message in out.output
    assert stored() == before
    assert run("weights", "import", str(tmp_path / "missing.json")).exit_code == 1


# -- sublarr providers ------------------------------------------------------------------------


def test_providers_modifier_list_remove(run):
    assert "No provider modifiers" in run("providers", "list").output
    out = run("providers", "modifier", "opensubtitles", "-20")
    assert out.exit_code == 0, out.output
    assert run("providers", "modifier", "addic7ed", "+15").exit_code == 0
    assert stored()[1] == {"opensubtitles": -20, "addic7ed": 15}
    listing = run("providers", "list").output.splitlines()
    assert listing[2].split() == ["addic7ed", "+15"] and listing[3].split() == ["opensubtitles", "-20"]
    assert json.loads(run("providers", "list", "--json").output) == {"addic7ed": 15, "opensubtitles": -20}
    assert run("providers", "remove", "addic7ed").exit_code == 0
    assert stored()[1] == {"opensubtitles": -20}
    out = run("providers", "remove", "addic7ed")
    assert out.exit_code == 1 and "Error: no score modifier stored for provider 'addic7ed'" in out.output


@pytest.mark.parametrize(
    ("args", "code"),
    [(["os", "lots"], 2), (["os", "1001"], 1), (["-bad", "3"], 1), (["os"], 2), (["os", "1.5"], 2)],
)
def test_providers_modifier_refuses_bad_input(run, args, code):
    out = run("providers", "modifier", *args)
    assert out.exit_code == code, out.output
    assert "Error" in out.output
    assert stored()[1] == {}


def test_the_console_script_against_a_database_file(tmp_path):
    """A real process: set in one, score in another (nothing shared but the file)."""
    env = {"SUBLARR_DATA_DIR": str(tmp_path / "data")}
    out = run_sublarr("weights", "set", "hash=400", env=env)
    assert out.returncode == 0, out.stderr
    out = run_sublarr("providers", "modifier", "opensubtitles", "-20", env=env)
    assert out.returncode == 0, out.stderr
    out = run_sublarr("score", "--matches", "hash,series", "--provider", "opensubtitles", env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(400 + 180 - 20)
    assert (tmp_path / "data" / "sublarr.db").exists()
    out = run_sublarr("weights", "set", "nope=1", env=env)
    assert out.returncode == 1 and "nope" in out.stderr


def test_cli_reports_an_unusable_database(tmp_path):
    (tmp_path / "file").write_text("")
    env = {"SUBLARR_DATABASE_URL": f"sqlite:///{tmp_path / 'file' / 'x.db'}"}
    out = run_sublarr("providers", "list", env=env)
    assert out.returncode == 1
    assert "cannot open the database" in out.stderr
    # The configured storage is unusable: score does not quietly fall back to the defaults.
    out = run_sublarr("score", "--matches", "hash", env=env)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.startswith("Error: cannot open the database") and "Traceback" not in out.stderr
