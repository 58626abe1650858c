"""Scoring presets: export, import, validation; a bad preset leaves the database unchanged."""

from __future__ import annotations

import copy
import json

import pytest

from sublarr.core import ValidationError, hookimpl
from sublarr.core.scoring import SubtitleResult, VideoQuery, compute_score, invalidate_scoring_cache
from sublarr.core.scoring.presets import (
    PRESET_FORMAT,
    PRESET_VERSION,
    export_scoring_preset,
    import_scoring_preset,
    validate_scoring_preset,
)

EPISODE = VideoQuery(series_title="Show", season=1, episode=1)


@pytest.fixture
def db(plugin_manager, sublarr_db):
    from sublarr.core.db import scoring

    return scoring


def stored(db) -> tuple[dict, dict]:
    return ({t: db.get_scoring_weights(t) for t in ("episode", "movie")}, db.get_all_provider_modifiers())


def good_preset() -> dict:
    return {
        "format": PRESET_FORMAT,
        "version": PRESET_VERSION,
        "description": "prefer opensubtitles hashes",
        "weights": {"episode": {"hash": 420, "release_group": 20}, "movie": {"title": 70}},
        "provider_modifiers": {"opensubtitles": 15, "addic7ed": -30},
    }


def test_export_holds_the_stored_overrides_only(db):
    db.set_scoring_weights("episode", {"hash": 400})
    db.set_provider_modifier("opensubtitles", -20)
    preset = export_scoring_preset("mine")
    assert preset["format"] == PRESET_FORMAT and preset["version"] == PRESET_VERSION
    assert preset["weights"] == {"episode": {"hash": 400}, "movie": {}}
    assert preset["provider_modifiers"] == {"opensubtitles": -20}
    assert preset["description"] == "mine"
    json.dumps(preset)  # JSON-ready


def test_roundtrip_through_json_into_a_fresh_database(db, tmp_path, event_recorder):
    from sublarr.core.db.engine import init_db

    db.set_scoring_weights("episode", {"hash": 400, "series": 150})
    db.set_scoring_weights("movie", {"title": 80})
    db.set_provider_modifier("opensubtitles", -20)
    text = json.dumps(export_scoring_preset())
    before = stored(db)

    init_db(f"sqlite:///{tmp_path / 'other.db'}")
    invalidate_scoring_cache()
    assert stored(db) == ({"episode": {}, "movie": {}}, {})
    event_recorder.clear()
    summary = import_scoring_preset(json.loads(text))
    assert summary == {"weights": {"episode": 2, "movie": 1}, "provider_modifiers": 1}
    assert stored(db) == before
    event_recorder.assert_emitted("config_updated", section="scoring_weights")
    r = SubtitleResult("opensubtitles", "1", "en", matches={"hash", "series"})
    assert compute_score(r, EPISODE) == 400 + 150 - 20


def test_import_replaces_everything(db):
    db.set_scoring_weights("episode", {"series": 1, "year": 2})
    db.set_provider_modifier("podnapisi", 9)
    compute_score(SubtitleResult("podnapisi", "1", "en", matches={"series"}), EPISODE)  # warm caches
    import_scoring_preset(good_preset())
    assert stored(db) == (
        {"episode": {"hash": 420, "release_group": 20}, "movie": {"title": 70}},
        {"opensubtitles": 15, "addic7ed": -30},
    )
    r = SubtitleResult("podnapisi", "1", "en", matches={"series"})
    assert compute_score(r, EPISODE) == 180  # old override and modifier gone at once


def test_minimal_preset_resets_to_defaults(db):
    db.set_scoring_weights("movie", {"title": 1})
    db.set_provider_modifier("podnapisi", 9)
    import_scoring_preset({"format": PRESET_FORMAT, "version": 1})
    assert stored(db) == ({"episode": {}, "movie": {}}, {})


def _bad(path: str, value=None, delete: bool = False) -> dict:
    preset = copy.deepcopy(good_preset())
    *parents, last = path.split(".")
    target = preset
    for part in parents:
        target = target[part]
    if delete:
        del target[last]
    else:
        target[last] = value
    return preset


BAD_PRESETS = [
    ("not an object", [1, 2], "preset"),
    ("wrong format", _bad("format", "sonarr-profile"), "format"),
    ("no format", _bad("format", delete=True), "format"),
    ("newer version", _bad("version", 2), "version"),
    ("version as text", _bad("version", "1"), "version"),
    ("unknown top-level field", _bad("extras", {}), "extras"),
    ("unknown score type", _bad("weights.anime", {"hash": 1}), "weights.anime"),
    ("unknown weight key", _bad("weights.episode.bogus", 5), "weights.episode.bogus"),
    ("bool weight", _bad("weights.movie.title", True), "weights.movie.title"),
    ("text weight", _bad("weights.episode.hash", "420"), "weights.episode.hash"),
    ("weight out of range", _bad("weights.episode.hash", 1001), "weights.episode.hash"),
    ("weights not an object", _bad("weights", ["hash"]), "weights"),
    ("modifier out of range", _bad("provider_modifiers.addic7ed", -1001), "provider_modifiers.addic7ed"),
    ("modifier as text", _bad("provider_modifiers.addic7ed", "-30"), "provider_modifiers.addic7ed"),
    ("bad provider name", _bad("provider_modifiers.-bad", 1), "provider_modifiers.-bad"),
    ("modifiers not an object", _bad("provider_modifiers", [1]), "provider_modifiers"),
]


@pytest.mark.parametrize(("label", "preset", "field"), BAD_PRESETS, ids=[b[0] for b in BAD_PRESETS])
def test_bad_preset_is_refused_and_changes_nothing(db, event_recorder, label, preset, field):
    db.set_scoring_weights("episode", {"hash": 400})
    db.set_provider_modifier("opensubtitles", -20)
    before = stored(db)
    event_recorder.clear()
    with pytest.raises(ValidationError) as err:
        import_scoring_preset(preset)
    assert err.value.field == field
    assert stored(db) == before
    event_recorder.assert_not_emitted("config_updated")


def test_plugin_declared_keys_are_accepted_in_presets(db, register_plugin):
    class Fansub:
        @hookimpl
        def weight_keys(self, score_type):
            return ["fansub_group"]

    preset = _bad("weights.episode.fansub_group", 12)
    with pytest.raises(ValidationError):
        validate_scoring_preset(preset)
    register_plugin(Fansub(), name="fansub")
    weights, modifiers = validate_scoring_preset(preset)
    assert weights["episode"]["fansub_group"] == 12 and modifiers["addic7ed"] == -30
