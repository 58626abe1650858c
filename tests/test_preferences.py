"""Scoring preferences: the built-in preference plugins, their storage, API, CLI and presets."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sublarr.core import ValidationError
from sublarr.core.cli.main import cli
from sublarr.core.scoring import SubtitleResult, VideoQuery, compute_score, explain_score, score_many

EPISODE = VideoQuery(series_title="Show", season=1, episode=1, release_group="GRP")
MOVIE = VideoQuery(title="Film", year=2020)
BASE = 180 + 30 + 30  # series + season + episode


@pytest.fixture
def db(plugin_manager, sublarr_db):
    from sublarr.core.db import scoring

    return scoring


def result(**fields) -> SubtitleResult:
    return SubtitleResult(
        "opensubtitles",
        fields.pop("subtitle_id", "1"),
        "en",
        matches={"series", "season", "episode"},
        **fields,
    )


def score(**fields) -> int:
    return compute_score(result(**fields), EPISODE)


# -- hearing impaired and forced: Sublarr's rules (backend/providers/base.py) -----------------


@pytest.mark.parametrize("section,flag", [("hearing_impaired", "hearing_impaired"), ("forced", "forced")])
def test_flag_modes_follow_sublarrs_rules(db, section, flag):
    assert score(**{flag: True}) == score(**{flag: False}) == BASE  # include: no opinion
    db.set_scoring_preferences({section: {"mode": "prefer"}})
    assert score(**{flag: True}) == BASE + 30 and score(**{flag: False}) == BASE
    db.set_scoring_preferences({section: {"mode": "exclude"}})
    assert score(**{flag: True}) == BASE - 999 and score(**{flag: False}) == BASE
    db.set_scoring_preferences({section: {"mode": "only"}})
    assert score(**{flag: True}) == BASE and score(**{flag: False}) == BASE - 999
    db.set_scoring_preferences({section: {"mode": "prefer", "prefer_points": 45}})
    assert score(**{flag: True}) == BASE + 45


def test_hi_and_forced_stack_and_each_is_its_own_source(db):
    db.set_scoring_preferences({"hearing_impaired": {"mode": "prefer"}, "forced": {"mode": "prefer"}})
    both = result(hearing_impaired=True, forced=True)
    explanation = explain_score(both, EPISODE)
    assert explanation["total"] == BASE + 60
    terms = {t["term"]: t for t in explanation["terms"]}
    assert terms["plugin:preferences.hearing_impaired"] == {
        "term": "plugin:preferences.hearing_impaired",
        "points": 30,
        "source": "preferences.hearing_impaired",
    }
    assert terms["plugin:preferences.forced"]["points"] == 30
    assert both.score_breakdown["plugin:preferences.forced"] == 30 and both.score == BASE + 60
    from sublarr.plugins.preferences import preferences

    assert preferences.score_modifier(both, EPISODE) == 60  # called directly: the same rules


def test_a_malformed_rule_answer_is_reported_and_the_plugin_called_instead(db, plugin_manager, monkeypatch):
    from sublarr.plugins.preferences import preferences

    db.set_scoring_preferences({"hearing_impaired": {"mode": "prefer"}})
    monkeypatch.setattr(
        preferences, "score_modifier_rules", lambda: [("hearing_impaired", "hearing_impaired", 0, 5000)]
    )
    explanation = explain_score(result(hearing_impaired=True), EPISODE)
    assert plugin_manager.error_counts["preferences"] == 1
    assert explanation["total"] == BASE + 5000  # its score_modifier ran (with the same bad rule)


def test_exclude_hi_does_not_touch_forced(db):
    db.set_scoring_preferences({"hearing_impaired": {"mode": "exclude"}})
    assert score(forced=True) == score() == BASE


def test_uploader_trust_by_name_and_by_provider_score(db):
    db.set_scoring_preferences({"uploader_trust": {"uploaders": {"GoodUploader": 25}}})
    assert score(uploader_name="gooduploader") == BASE + 25  # names compare ignoring case
    assert score(uploader_name="someone") == BASE
    assert score(uploader_trust=12.0) == BASE  # provider trust is off by default
    db.set_scoring_preferences({"uploader_trust": {"provider_trust": True, "provider_trust_max": 10}})
    assert score(uploader_trust=12.7) == BASE + 10  # capped
    assert score(uploader_trust=4.9, uploader_name="GoodUploader") == BASE + 25 + 4
    explained = explain_score(result(uploader_trust=5.0), EPISODE)
    assert {
        "term": "plugin:uploader_trust",
        "points": 5,
        "source": "uploader_trust",
    } in explained["terms"]


def test_machine_translated_penalty_or_exclusion(db):
    assert score(machine_translated=True) == BASE
    db.set_scoring_preferences({"machine_translated": {"mode": "penalty", "penalty_points": -60}})
    assert score(machine_translated=True) == BASE - 60 and score() == BASE
    db.set_scoring_preferences({"machine_translated": {"mode": "exclude"}})
    explained = explain_score(result(machine_translated=True), EPISODE)
    assert explained["total"] == BASE - 999
    assert explained["terms"][-1]["source"] == "preferences.machine_translated"


def test_idle_preferences_are_not_called_per_result(db, plugin_manager):
    from sublarr.core.scoring.compute import _current_state

    state = _current_state()
    assert state.modifiers == () and state.rules == ()  # every preference at include: no work
    db.set_scoring_preferences({"hearing_impaired": {"mode": "prefer"}})
    state = _current_state()
    assert state.modifiers == ()  # a rule, applied by the scorer
    assert state.rules == (("hearing_impaired", "plugin:preferences.hearing_impaired", 0, 30),)
    db.set_scoring_preferences({"uploader_trust": {"provider_trust": True}})
    assert [impl[1] for impl in _current_state().modifiers] == ["uploader_trust"]


def test_bad_preferences_are_refused_and_change_nothing(db):
    before = db.get_scoring_preferences()
    bad = [
        ({"hearing_impaired": {"mode": "sometimes"}}, "hearing_impaired.mode"),
        ({"forced": {"prefer_points": 5000}}, "forced.prefer_points"),
        ({"forced": {"prefer_points": True}}, "forced.prefer_points"),
        ({"colour": {}}, "colour"),
        ({"forced": {"volume": 1}}, "forced.volume"),
        ({"min_score": {"episode": 101}}, "min_score.episode"),
        ({"uploader_trust": {"provider_trust": "yes"}}, "uploader_trust.provider_trust"),
        ({"uploader_trust": {"provider_trust_max": -1}}, "uploader_trust.provider_trust_max"),
        ({"machine_translated": {"mode": "only"}}, "machine_translated.mode"),
    ]
    for prefs, field in bad:
        with pytest.raises(ValidationError) as info:
            db.set_scoring_preferences(prefs)
        assert info.value.field == field
    assert db.get_scoring_preferences() == before


def test_writes_emit_config_updated_and_reset(db, event_recorder):
    db.set_scoring_preferences({"forced": {"mode": "only"}})
    assert event_recorder.last("config_updated").payload == {
        "section": "scoring_preferences",
        "keys": ["forced.mode"],
    }
    assert db.get_stored_preferences() == {"forced": {"mode": "only"}}
    assert db.reset_scoring_preferences("forced")["forced"]["mode"] == "include"
    assert db.get_stored_preferences() == {}


def test_storage_down_means_no_preference(plugin_manager):
    # no database initialised: scoring goes on with the defaults
    assert score(hearing_impaired=True) == BASE


# -- derived matches and new fields --------------------------------------------------------


def test_release_group_match_is_derived_from_the_reported_groups(db):
    r = SubtitleResult("opensubtitles", "1", "en", release_group="grp", release_info="Show.S01E01.720p-GRP")
    assert compute_score(r, EPISODE) == 14 and "release_group" in r.matches
    other = SubtitleResult("opensubtitles", "2", "en", release_group="OTHER")
    assert compute_score(other, EPISODE) == 0 and other.matches == set()
    assert VideoQuery(languages=["en", "de"]).languages == ("en", "de")


# -- minimum score ----------------------------------------------------------------------------


def test_min_score_drops_results_and_explain_says_so(db):
    good = SubtitleResult("a", "good", "en", matches={"hash"})  # 359 of 359
    weak = SubtitleResult("a", "weak", "en", matches={"series", "season", "episode"})  # 240
    assert [r.subtitle_id for r in score_many([weak, good], EPISODE)] == ["good", "weak"]
    assert [r.subtitle_id for r in score_many([weak, good], EPISODE, min_score=90)] == ["good"]
    with pytest.raises(ValidationError):
        score_many([weak], EPISODE, min_score=150)
    db.set_scoring_preferences({"min_score": {"episode": 90}})
    assert [r.subtitle_id for r in score_many([weak, good], EPISODE)] == ["good"]
    assert len(score_many([weak, good], EPISODE, min_score=0)) == 2  # the argument wins
    explained = explain_score(weak, EPISODE)
    assert explained["min_score"] == {"percent": 90, "points": 324, "max_score": 359, "dropped": True}
    from sublarr.core.scoring import format_explanation

    assert "DROPPED: under the minimum score 324 (90% of 359)" in format_explanation(explained)
    assert explain_score(good, EPISODE)["min_score"]["dropped"] is False
    # movies have their own setting
    movie = SubtitleResult("a", "m", "en", matches={"title"})
    assert score_many([movie], MOVIE) == [movie]


# -- presets ----------------------------------------------------------------------------------

SUBLARR_ANIME = {  # Sublarr's backend/scoring_presets/anime.json, as shipped
    "name": "Anime",
    "description": (
        "Optimised for anime: high series/episode match, strong ASS format preference, release group matters."
    ),
    "type": "episode",
    "weights": {
        "episode": {
            "hash": 359,
            "series": 180,
            "year": 90,
            "season": 30,
            "episode": 30,
            "release_group": 20,
            "source": 5,
            "audio_codec": 2,
            "resolution": 2,
            "hearing_impaired": 1,
            "format_bonus": 80,
        }
    },
    "provider_modifiers": {},
}


def test_a_sublarr_exported_preset_imports_as_is(db):
    from sublarr.core.scoring.presets import import_scoring_preset

    db.set_scoring_preferences({"hearing_impaired": {"mode": "prefer"}})
    summary = import_scoring_preset(json.loads(json.dumps(SUBLARR_ANIME)))
    assert summary == {"weights": {"episode": 11, "movie": 0}, "provider_modifiers": 0}
    assert db.get_scoring_weights("episode")["format_bonus"] == 80
    assert db.get_scoring_preferences()["hearing_impaired"]["mode"] == "prefer"  # it holds none
    with pytest.raises(ValidationError) as info:
        import_scoring_preset({**SUBLARR_ANIME, "type": "cartoon"})
    assert info.value.field == "type"


def test_bundled_presets_apply_and_round_trip(db):
    from sublarr.core.scoring.presets import apply_bundled_preset, bundled_presets, export_scoring_preset

    assert [p["name"] for p in bundled_presets()] == [
        "defaults",
        "hash-first",
        "strict-release-group",
        "anime",
    ]
    apply_bundled_preset("strict-release-group")
    assert db.get_scoring_weights("episode")["release_group"] == 60
    assert db.get_scoring_preferences()["min_score"] == {"episode": 90, "movie": 70}
    exported = export_scoring_preset()
    assert exported["preferences"] == {"min_score": {"episode": 90, "movie": 70}}
    apply_bundled_preset("anime")
    assert db.get_scoring_preferences()["min_score"] == {"episode": 0, "movie": 0}
    assert db.get_scoring_preferences()["machine_translated"]["mode"] == "penalty"
    apply_bundled_preset("defaults")
    assert db.get_stored_preferences() == {} and db.get_scoring_weights("episode") == {}
    from sublarr.core.errors import NotFoundError

    with pytest.raises(NotFoundError):
        apply_bundled_preset("nope")


def test_a_preset_with_bad_preferences_changes_nothing(db):
    from sublarr.core.scoring.presets import get_bundled_preset, import_scoring_preset

    db.set_scoring_weights("episode", {"hash": 400})
    preset = get_bundled_preset("hash-first")
    preset["preferences"] = {"forced": {"mode": "never"}}
    with pytest.raises(ValidationError) as info:
        import_scoring_preset(preset)
    assert info.value.field == "preferences.forced.mode"
    assert db.get_scoring_weights("episode") == {"hash": 400}


# -- API and CLI ----------------------------------------------------------------------------

API = "/api/v1/scoring"


def test_api_preferences_presets_and_explain(api_client):
    assert api_client.get(f"{API}/preferences").get_json()["hearing_impaired"]["mode"] == "include"
    r = api_client.put(f"{API}/preferences", json={"hearing_impaired": {"mode": "exclude"}})
    assert r.status_code == 200 and r.get_json()["hearing_impaired"]["mode"] == "exclude"
    r = api_client.put(f"{API}/preferences", json={"hearing_impaired": {"mode": "maybe"}})
    assert r.status_code == 422 and "hearing_impaired.mode" in json.dumps(r.get_json())
    body = {
        "query": {"series_title": "Show", "season": 1, "episode": 1, "release_group": "GRP"},
        "result": {"provider_name": "opensubtitles", "hearing_impaired": True, "release_group": "grp"},
        "min_score": 50,
    }
    explained = api_client.post(f"{API}/explain", json=body).get_json()
    assert explained["total"] == 14 - 999
    assert {t["source"] for t in explained["terms"]} == {"default", "preferences.hearing_impaired"}
    assert explained["min_score"]["dropped"] is True
    assert api_client.delete(f"{API}/preferences").get_json()["hearing_impaired"]["mode"] == "include"

    names = [p["name"] for p in api_client.get(f"{API}/presets").get_json()["presets"]]
    assert "hash-first" in names
    assert api_client.get(f"{API}/presets/anime").get_json()["weights"]["episode"]["format_bonus"] == 80
    assert api_client.get(f"{API}/presets/nope").status_code == 404
    applied = api_client.post(f"{API}/presets/hash-first/apply").get_json()
    assert applied["weights"] == {"episode": 1, "movie": 1} and applied["preferences"] == 2
    assert api_client.get(f"{API}/weights").get_json()["effective"]["episode"]["hash"] == 600
    assert api_client.get(f"{API}/export").get_json()["preferences"] == {
        "min_score": {"episode": 60, "movie": 50}
    }
    r = api_client.post(f"{API}/import", json=SUBLARR_ANIME)
    assert r.status_code == 200, r.get_json()


@pytest.fixture
def run(plugin_manager, sublarr_db):
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # noqa: A002 - CliRunner.invoke's name
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


def test_cli_preferences_and_presets(run):
    out = run("preferences", "set", "hearing_impaired.mode=prefer", "min_score.episode=90")
    assert out.exit_code == 0, out.output
    prefs = json.loads(run("preferences", "show", "--json").output)
    assert prefs["hearing_impaired"]["mode"] == "prefer" and prefs["min_score"]["episode"] == 90
    bad = run("preferences", "set", "forced.mode=never")
    assert bad.exit_code != 0 and "forced.mode" in bad.output
    assert run("preferences", "reset").exit_code == 0
    assert json.loads(run("preferences", "show", "--json").output)["min_score"]["episode"] == 0
    assert "strict-release-group" in run("weights", "presets").output
    out = run("weights", "apply-preset", "hash-first")
    assert out.exit_code == 0 and "2 preference value(s)" in out.output
    assert run("weights", "apply-preset", "nope").exit_code != 0


def test_cli_score_takes_a_whole_result_and_query(run, tmp_path):
    run("preferences", "set", "forced.mode=only", 'uploader_trust.uploaders={"ace": 12}')
    out = run("score", "--matches", "series,season,episode", "--forced", "--uploader", "Ace", "--explain")
    assert out.exit_code == 0, out.output
    assert "plugin:uploader_trust" in out.output and "from uploader_trust" in out.output
    assert out.output.splitlines()[0].endswith(f"{BASE + 12} points (episode weights)")
    doc = {
        "query": {"series_title": "Show", "season": 1, "episode": 2, "release_group": "GRP"},
        "result": {"provider_name": "opensubtitles", "matches": ["series"], "release_group": "GRP"},
        "min_score": 90,
    }
    path = tmp_path / "case.json"
    path.write_text(json.dumps(doc))
    explained = json.loads(run("score", "--json", str(path)).output)
    assert explained["total"] == 180 + 14 - 999  # derived release_group; not forced under "only"
    assert {t["source"] for t in explained["terms"]} == {"default", "preferences.forced"}
    assert explained["min_score"]["dropped"] is True
    path.write_text(json.dumps({"result": {"provider_name": "x", "colour": "red"}}))
    out = run("score", "--json", str(path))
    assert out.exit_code != 0 and "result.colour" in out.output
    assert (
        json.loads(run("score", "--matches", "hash", "--json").output)["total"] == 359 - 999
    )  # --json alone
