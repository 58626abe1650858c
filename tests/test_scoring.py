"""Scoring: compute_score / score_many / explain_score with the built-in plugins on real SQLite."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Any

import pytest

from sublarr.core import StorageError, ValidationError, emit_event, hookimpl
from sublarr.core.scoring import (
    EPISODE_SCORES,
    MOVIE_SCORES,
    SubtitleResult,
    VideoQuery,
    compute_score,
    describe_weights,
    effective_weights,
    explain_score,
    format_explanation,
    invalidate_scoring_cache,
    score_many,
    stored_scoring_cache,
    validate_modifier,
    validate_weights,
)
from sublarr.core.scoring.cache import storage_status

EPISODE = VideoQuery(series_title="Test", season=1, episode=1)
MOVIE = VideoQuery(title="Film", year=2020)
STORAGE_DOWN = "scoring storage unavailable"


@pytest.fixture
def scoring(plugin_manager, sublarr_db):
    """The built-in plugins on a fresh database; the plugin manager."""
    return plugin_manager


def result(provider: str = "test", matches: Any = ("hash", "series"), **kwargs: Any) -> SubtitleResult:
    return SubtitleResult(
        provider_name=provider, subtitle_id="1", language="en", matches=set(matches), **kwargs
    )


def set_ttl(pm: Any, seconds: float) -> None:
    pm.settings = dataclasses.replace(pm.settings, scoring_cache_ttl=seconds)
    invalidate_scoring_cache()


def write_behind_sublarrs_back(score_type: str, key: str, value: int) -> None:
    """Store a weight as another process would: straight into the table, no event here."""
    from sublarr.core.db.engine import session_scope
    from sublarr.core.db.models import ScoringWeight, utcnow_iso

    with session_scope() as session:
        session.add(
            ScoringWeight(score_type=score_type, weight_key=key, weight_value=value, updated_at=utcnow_iso())
        )


# -- the plan's contract ----------------------------------------------------------------------


def test_plan_task3_verify_snippet(scoring):
    q = VideoQuery(series_title="Test", season=1, episode=1)
    r = SubtitleResult(provider_name="test", subtitle_id="1", language="en", matches={"hash", "series"})
    score = compute_score(r, q)
    expected = EPISODE_SCORES["hash"] + EPISODE_SCORES["series"]
    assert score == expected == 539
    assert r.score == 539
    assert r.score_breakdown == {"hash": 359, "series": 180}
    invalidate_scoring_cache()


def test_default_tables_are_the_documented_ones():
    assert dict(EPISODE_SCORES) == {
        "hash": 359,
        "series": 180,
        "year": 90,
        "season": 30,
        "episode": 30,
        "release_group": 14,
        "source": 7,
        "audio_codec": 3,
        "resolution": 2,
        "hearing_impaired": 1,
        "format_bonus": 50,
    }
    assert dict(MOVIE_SCORES) == {
        "hash": 119,
        "title": 60,
        "year": 30,
        "release_group": 13,
        "source": 7,
        "audio_codec": 3,
        "resolution": 2,
        "hearing_impaired": 1,
        "format_bonus": 50,
    }
    with pytest.raises(TypeError):
        EPISODE_SCORES["hash"] = 1  # type: ignore[index]


def test_models():
    assert VideoQuery(series_title="S", season=1, episode=2).is_episode
    assert VideoQuery(season=1).is_episode
    assert not VideoQuery(title="Film").is_episode
    r = SubtitleResult("p", "1", "en", format="SSA", matches=["hash", "hash"])
    assert r.matches == {"hash"}
    assert SubtitleResult("p", "1", "en", matches=None).matches == set()


def test_movie_weights_and_format_bonus_any_case(scoring):
    r = result(matches={"title", "year"}, format="ASS")
    assert compute_score(r, MOVIE) == 60 + 30 + 50
    assert r.score_breakdown == {"title": 60, "year": 30, "format_bonus": 50}
    for spelling in ("ass", "Ssa", "sSA"):
        assert compute_score(result(matches=(), format=spelling), MOVIE) == 50
    for other in ("srt", "assa", "vtt", ""):
        assert compute_score(result(matches=(), format=other), MOVIE) == 0
    # episode keys mean nothing to a movie, and vice versa
    assert compute_score(result(matches={"series", "season"}), MOVIE) == 0
    assert compute_score(result(matches={"title"}), EPISODE) == 0


# -- stored configuration ---------------------------------------------------------------------


def test_stored_weights_and_provider_modifiers_change_the_score(scoring):
    from sublarr.core.db.scoring import set_provider_modifier, set_scoring_weights

    assert compute_score(result("opensubtitles"), EPISODE) == 539
    set_scoring_weights("episode", {"hash": 400})
    set_provider_modifier("opensubtitles", -20)
    r = result("opensubtitles")
    assert compute_score(r, EPISODE) == 400 + 180 - 20
    assert r.score_breakdown == {"hash": 400, "series": 180, "provider:opensubtitles": -20}
    # other providers and the other score type are untouched
    assert compute_score(result("podnapisi"), EPISODE) == 580
    assert compute_score(result("podnapisi", {"hash"}), MOVIE) == 119


def test_user_weights_win_over_plugin_weights(scoring, register_plugin):
    from sublarr.core.db.scoring import set_scoring_weights

    class Heavy:
        @hookimpl
        def scoring_weights(self, score_type):
            return {"hash": 500, "series": 200} if score_type == "episode" else None

    register_plugin(Heavy(), name="heavy")
    assert compute_score(result(), EPISODE) == 500 + 200
    set_scoring_weights("episode", {"hash": 401})
    r = result()
    assert compute_score(r, EPISODE) == 401 + 200
    sources = {w["key"]: w["source"] for w in describe_weights("episode")}
    assert sources["hash"] == "db_weights" and sources["series"] == "heavy"
    assert sources["year"] == "default"


def test_plugin_declared_weight_key_scores_and_validates(scoring, register_plugin):
    from sublarr.core.db.scoring import get_scoring_weights, set_scoring_weights

    class Fansub:
        @hookimpl
        def weight_keys(self, score_type):
            return ["fansub_group"]

        @hookimpl
        def scoring_weights(self, score_type):
            return {"fansub_group": 25}

    with pytest.raises(ValidationError) as err:
        validate_weights("episode", {"fansub_group": 30})
    assert err.value.field == "fansub_group"
    register_plugin(Fansub(), name="fansub")
    assert compute_score(result(matches={"fansub_group"}), EPISODE) == 25
    assert {w["key"]: w["source"] for w in describe_weights("episode")}["fansub_group"] == "fansub"
    set_scoring_weights("episode", {"fansub_group": 30})
    assert get_scoring_weights("episode") == {"fansub_group": 30}
    assert compute_score(result(matches={"fansub_group"}), EPISODE) == 30


def test_a_declared_key_is_worth_nothing_until_weighted(scoring, register_plugin):
    class Declares:
        @hookimpl
        def weight_keys(self, score_type):
            return ["uploader_trusted"] if score_type == "movie" else None

    register_plugin(Declares(), name="declares")
    assert effective_weights("movie")["uploader_trusted"] == 0
    assert "uploader_trusted" not in effective_weights("episode")
    assert validate_weights("movie", {"uploader_trusted": 12}) == {"uploader_trusted": 12}
    described = {w["key"]: w for w in describe_weights("movie")}["uploader_trusted"]
    assert described == {"key": "uploader_trusted", "default": None, "value": 0, "source": "declares"}


def test_weights_for_keys_nobody_declares_are_ignored(scoring, register_plugin):
    class Undeclared:
        @hookimpl
        def scoring_weights(self, score_type):
            return {"uploader_trusted": 25, "hash": 300}

    register_plugin(Undeclared(), name="undeclared")
    assert compute_score(result(matches={"uploader_trusted", "hash"}), EPISODE) == 300
    assert "uploader_trusted" not in effective_weights("episode")
    assert scoring.error_counts["undeclared"] == 0


@pytest.mark.parametrize("answer", [["Bad Key"], ["ok", 5], "fansub_group", {"fansub_group"}])
def test_bad_weight_keys_answers_are_skipped_and_counted(scoring, register_plugin, answer):
    class BadKeys:
        @hookimpl
        def weight_keys(self, score_type):
            return answer

    register_plugin(BadKeys(), name="bad_keys")
    assert set(effective_weights("episode")) == set(EPISODE_SCORES)
    assert scoring.error_counts["bad_keys"] >= 1
    assert "weight_keys" in scoring.last_errors["bad_keys"]


def test_stored_key_nobody_defines_any_more_is_ignored(scoring):
    write_behind_sublarrs_back("episode", "gone_plugin_key", 999)
    invalidate_scoring_cache()
    assert "gone_plugin_key" not in effective_weights("episode")
    assert compute_score(result(matches={"gone_plugin_key", "hash"}), EPISODE) == 359


# -- third-party modifiers and explanations ---------------------------------------------------


def test_third_party_modifier_is_named_in_explain_score(scoring, register_plugin):
    from sublarr.core.db.scoring import set_provider_modifier

    class PreferSigns:
        @hookimpl
        def score_modifier(self, result, query):
            return 15 if result.format == "ass" else None

    register_plugin(PreferSigns(), name="prefer_signs")
    set_provider_modifier("opensubtitles", -20)
    r = result("opensubtitles", format="ass")
    explanation = explain_score(r, EPISODE)
    assert explanation["total"] == r.score == 359 + 180 + 50 - 20 + 15
    terms = {t["term"]: (t["points"], t["source"]) for t in explanation["terms"]}
    assert terms == {
        "hash": (359, "default"),
        "series": (180, "default"),
        "format_bonus": (50, "default"),
        "provider:opensubtitles": (-20, "provider_modifiers"),
        "plugin:prefer_signs": (15, "prefer_signs"),
    }
    assert [t["term"] for t in explanation["terms"]][:2] == ["hash", "series"]  # biggest first
    assert explanation["weights"]["hash"] == 359 and explanation["score_type"] == "episode"
    text = format_explanation(explanation)
    assert "plugin:prefer_signs" in text and "+15" in text and "-20" in text
    assert text.splitlines()[-1].split() == ["584", "total"]
    # a plain srt result gets no opinion from the plugin
    plain = result()
    assert compute_score(plain, EPISODE) == 539
    assert "plugin:prefer_signs" not in plain.score_breakdown


def test_explain_lists_matches_without_a_weight(scoring):
    explanation = explain_score(result(matches={"hash", "nonsense"}), EPISODE)
    assert explanation["ignored_matches"] == ["nonsense"]
    assert "nonsense" in format_explanation(explanation)
    assert explain_score(result(matches=()), EPISODE)["terms"] == []


@pytest.mark.parametrize("bad", ["raises", "string", "bool", "float"])
def test_misbehaving_modifier_is_skipped_and_counted(scoring, register_plugin, bad, caplog):
    class Bad:
        @hookimpl
        def score_modifier(self, result):
            if bad == "raises":
                raise RuntimeError("boom")
            return {"string": "5", "bool": True, "float": 2.5}[bad]

    class Good:
        @hookimpl
        def score_modifier(self, query):
            return 7

    register_plugin(Bad(), name="bad_plugin")
    register_plugin(Good(), name="good_plugin")
    scores = [compute_score(result(), EPISODE) for _ in range(3)]
    assert scores == [539 + 7] * 3
    assert scoring.error_counts["bad_plugin"] == 3
    assert scoring.error_counts["good_plugin"] == 0
    assert "score_modifier" in scoring.last_errors["bad_plugin"]
    assert any("bad_plugin" in rec.getMessage() for rec in caplog.records if rec.levelno >= logging.ERROR)
    ranked = score_many([result(), result(matches={"hash"})], EPISODE)
    assert [r.score for r in ranked] == [546, 366]
    assert scoring.error_counts["bad_plugin"] == 5


@pytest.mark.parametrize("answer", [{"hash": "400"}, {"hash": True}, {"hash": 5000}, ["hash"], "x"])
def test_misbehaving_weights_plugin_is_skipped_and_counted(scoring, register_plugin, answer):
    class BadWeights:
        @hookimpl
        def scoring_weights(self, score_type):
            return answer

    register_plugin(BadWeights(), name="bad_weights")
    assert compute_score(result(), EPISODE) == 539
    assert scoring.error_counts["bad_weights"] >= 1
    assert effective_weights("episode")["hash"] == 359


def test_raising_weights_plugin_is_skipped(scoring, register_plugin):
    class Raises:
        @hookimpl
        def scoring_weights(self, score_type):
            raise ValueError("no weights today")

    register_plugin(Raises(), name="raises")
    assert compute_score(result(), EPISODE) == 539
    assert scoring.error_counts["raises"] == 2  # one call per score type, per cache period
    compute_score(result(), EPISODE)
    assert scoring.error_counts["raises"] == 2


def test_registering_and_unregistering_a_plugin_applies_at_once(scoring, register_plugin):
    class Plus:
        @hookimpl
        def score_modifier(self, result):
            return 3

    assert compute_score(result(), EPISODE) == 539
    plugin = register_plugin(Plus(), name="plus")
    assert compute_score(result(), EPISODE) == 542
    scoring.unregister(plugin)
    assert compute_score(result(), EPISODE) == 539


def test_provider_modifiers_hook_is_read_once_per_cache_period(scoring, register_plugin):
    calls = {"table": 0}

    class Table:
        @hookimpl
        def provider_modifiers(self):
            calls["table"] += 1
            return {"podnapisi": 5, "OpenSubtitles.com": -3}

    register_plugin(Table(), name="table_plugin")
    ranked = score_many([result("podnapisi") for _ in range(100)] + [result("other")], EPISODE)
    assert [r.score for r in ranked[:2]] == [544, 544] and ranked[-1].score == 539
    assert ranked[0].score_breakdown["provider:podnapisi"] == 5
    assert compute_score(result("OpenSubtitles.com"), EPISODE) == 536
    assert calls == {"table": 1}
    explanation = explain_score(result("podnapisi"), EPISODE)
    assert {"term": "provider:podnapisi", "points": 5, "source": "table_plugin"} in explanation["terms"]


def test_provider_modifiers_of_several_plugins_add_up(scoring, register_plugin):
    from sublarr.core.db.scoring import set_provider_modifier

    class Table:
        @hookimpl
        def provider_modifiers(self):
            return {"podnapisi": 5}

    set_provider_modifier("podnapisi", 10)
    register_plugin(Table(), name="table_plugin")
    explanation = explain_score(result("podnapisi"), EPISODE)
    assert {"term": "provider:podnapisi", "points": 15, "source": "table_plugin, provider_modifiers"} in (
        explanation["terms"]
    )


@pytest.mark.parametrize(
    "table", [{"podnapisi": "lots"}, {"Open Subs": 5}, {"podnapisi": True}, {"podnapisi": 5000}, [("p", 1)]]
)
def test_broken_provider_modifiers_are_skipped_and_counted(scoring, register_plugin, table):
    class BrokenTable:
        @hookimpl
        def provider_modifiers(self):
            return table

    register_plugin(BrokenTable(), name="broken_table")
    assert compute_score(result("podnapisi"), EPISODE) == 539
    assert compute_score(result("Open Subs"), EPISODE) == 539
    assert scoring.error_counts["broken_table"] == 1
    assert "provider_modifiers" in scoring.last_errors["broken_table"]


# -- score_many -------------------------------------------------------------------------------


def test_score_many_scores_and_sorts(scoring):
    from sublarr.core.db.scoring import set_provider_modifier

    set_provider_modifier("addic7ed", 100)
    results = [
        result("a", matches={"series"}),
        result("b", matches={"hash", "series"}),
        result("addic7ed", matches={"series"}),
        result("c", matches={"series"}),
        result("d", matches={"series", "season"}, format="ssa"),
    ]
    ranked = score_many(results, EPISODE)
    assert [(r.provider_name, r.score) for r in ranked] == [
        ("b", 539),
        ("addic7ed", 280),
        ("d", 260),
        ("a", 180),
        ("c", 180),  # ties keep input order
    ]
    assert all(r.score_breakdown for r in ranked)
    assert score_many([], EPISODE) == []
    assert score_many(iter([result()]), EPISODE)[0].score == 539


def test_built_ins_read_the_database_once_per_cache_period(scoring, monkeypatch):
    import sublarr.core.db.scoring as db_scoring

    counts = {"weights": 0, "modifiers": 0}
    real_weights, real_modifiers = db_scoring.get_scoring_weights, db_scoring.get_all_provider_modifiers

    def weights(score_type):
        counts["weights"] += 1
        return real_weights(score_type)

    def modifiers():
        counts["modifiers"] += 1
        return real_modifiers()

    monkeypatch.setattr(db_scoring, "get_scoring_weights", weights)
    monkeypatch.setattr(db_scoring, "get_all_provider_modifiers", modifiers)
    invalidate_scoring_cache()
    for _ in range(200):
        compute_score(result("opensubtitles"), EPISODE)
    score_many([result("x") for _ in range(500)], MOVIE)
    explain_score(result(), EPISODE)
    assert counts == {"weights": 2, "modifiers": 1}  # both score types at once, all modifiers at once


# -- caching and invalidation -----------------------------------------------------------------


def test_write_in_process_applies_to_the_next_score(scoring):
    from sublarr.core.db.scoring import (
        delete_provider_modifier,
        reset_scoring_weights,
        set_provider_modifier,
        set_scoring_weights,
    )

    assert scoring.settings.scoring_cache_ttl == 60
    assert compute_score(result("os"), EPISODE) == 539
    set_scoring_weights("episode", {"series": 100})
    assert compute_score(result("os"), EPISODE) == 459
    set_provider_modifier("os", 11)
    assert compute_score(result("os"), EPISODE) == 470
    delete_provider_modifier("os")
    reset_scoring_weights()
    assert compute_score(result("os"), EPISODE) == 539


def test_cache_ttl_is_honoured(scoring):
    set_ttl(scoring, 0.4)
    assert compute_score(result(), EPISODE) == 539
    write_behind_sublarrs_back("episode", "hash", 300)
    assert compute_score(result(), EPISODE) == 539  # still cached
    deadline = time.monotonic() + 5
    while compute_score(result(), EPISODE) == 539 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert compute_score(result(), EPISODE) == 480
    assert time.monotonic() < deadline


def test_other_threads_keep_scoring_while_expired_tables_are_rebuilt(scoring, register_plugin):
    entered, gate = threading.Event(), threading.Event()

    class Slow:
        slow = False

        @hookimpl
        def scoring_weights(self, score_type):
            if self.slow:
                entered.set()
                gate.wait(5)
            return {"hash": 300 if self.slow else 200}

    plugin = register_plugin(Slow(), name="slow")
    set_ttl(scoring, 0.2)
    assert compute_score(result(), EPISODE) == 380
    plugin.slow = True
    time.sleep(0.25)
    rebuilding = threading.Thread(target=compute_score, args=(result(), EPISODE))
    rebuilding.start()
    try:
        assert entered.wait(5)
        started = time.monotonic()
        assert compute_score(result(), EPISODE) == 380  # the expired tables, without waiting
        assert time.monotonic() - started < 1
    finally:
        gate.set()
        rebuilding.join(5)
    assert compute_score(result(), EPISODE) == 480


def test_invalidation_during_a_rebuild_is_neither_blocked_nor_lost(scoring, register_plugin):
    entered, gate = threading.Event(), threading.Event()

    class Slow:
        value, slow = 200, False

        @hookimpl
        def scoring_weights(self, score_type):
            value = self.value
            if self.slow and score_type == "episode":
                entered.set()
                gate.wait(5)
            return {"hash": value}

    plugin = register_plugin(Slow(), name="slow")
    plugin.slow = True
    rebuilding = threading.Thread(target=compute_score, args=(result(), EPISODE))
    rebuilding.start()
    try:
        assert entered.wait(5)
        plugin.value, plugin.slow = 250, False
        started = time.monotonic()
        invalidate_scoring_cache()
        assert time.monotonic() - started < 1
    finally:
        gate.set()
        rebuilding.join(5)
    assert compute_score(result(), EPISODE) == 250 + 180  # the tables read before it were dropped


def test_config_updated_event_invalidates(scoring):
    assert compute_score(result(), EPISODE) == 539
    write_behind_sublarrs_back("episode", "hash", 300)
    emit_event("config_updated", {"section": "webhooks", "keys": ["x"]})
    assert compute_score(result(), EPISODE) == 539  # another section: cache kept
    emit_event("config_updated", {"section": "scoring_weights", "keys": ["episode.hash"]})
    assert compute_score(result(), EPISODE) == 480


def test_invalidate_scoring_cache_reloads(scoring):
    assert compute_score(result(), EPISODE) == 539
    write_behind_sublarrs_back("episode", "series", 1)
    assert compute_score(result(), EPISODE) == 539
    invalidate_scoring_cache()
    assert compute_score(result(), EPISODE) == 360


def test_database_unreachable_falls_back_to_defaults_and_logs_once(scoring, tmp_path, monkeypatch, caplog):
    from sublarr.core.db.engine import dispose_db, init_db
    from sublarr.core.db.scoring import set_provider_modifier, set_scoring_weights

    set_scoring_weights("episode", {"hash": 400})
    set_provider_modifier("test", -9)
    assert compute_score(result(), EPISODE) == 571
    (tmp_path / "not-a-dir").write_text("")
    dispose_db()
    monkeypatch.setenv("SUBLARR_DATABASE_URL", f"sqlite:///{tmp_path / 'not-a-dir' / 'x.db'}")
    caplog.set_level(logging.INFO, logger="sublarr")
    caplog.clear()
    scores = []
    for _ in range(5):
        invalidate_scoring_cache()  # force a re-read each time
        scores.append(compute_score(result(), EPISODE))
        scores.append(score_many([result()], EPISODE)[0].score)
    assert scores == [539] * 10
    down = [r for r in caplog.records if STORAGE_DOWN in r.getMessage()]
    assert len(down) == 1 and down[0].levelno == logging.WARNING
    assert storage_status.down
    assert scoring.error_counts["db_weights"] == 0  # an outage is not a plugin bug

    # back again: the stored values apply and that is said once
    monkeypatch.setenv("SUBLARR_DATABASE_URL", scoring_db_url(tmp_path))
    init_db(scoring_db_url(tmp_path))
    invalidate_scoring_cache()
    assert compute_score(result(), EPISODE) == 571
    assert not storage_status.down
    assert len([r for r in caplog.records if "reachable again" in r.getMessage()]) == 1


@pytest.mark.parametrize("error", [OSError("disk gone"), StorageError("cannot open the database x")])
def test_a_stored_cache_scores_without_storage_that_fails(scoring, register_plugin, error, caplog):
    def read() -> dict[str, int]:
        raise error

    class Stored:
        def __init__(self) -> None:
            self.cache = stored_scoring_cache("stored table", read, {})

        @hookimpl
        def provider_modifiers(self):
            return self.cache.get()

    register_plugin(Stored(), name="stored_plugin")
    caplog.set_level(logging.WARNING, logger="sublarr")
    assert compute_score(result("podnapisi"), EPISODE) == 539
    down = [r.getMessage() for r in caplog.records if STORAGE_DOWN in r.getMessage()]
    assert len(down) == 1 and "reading stored table" in down[0]
    assert scoring.error_counts["stored_plugin"] == 0  # an outage is not a plugin bug


def test_a_bug_in_a_stored_cache_read_is_a_plugin_error_not_an_outage(scoring, register_plugin, caplog):
    def read() -> dict[str, int]:
        return {"podnapisi": 5}["missing"]

    class Stored:
        def __init__(self) -> None:
            self.cache = stored_scoring_cache("stored table", read, {})

        @hookimpl
        def provider_modifiers(self):
            return self.cache.get()

    register_plugin(Stored(), name="stored_plugin")
    caplog.set_level(logging.WARNING, logger="sublarr")
    assert compute_score(result("podnapisi"), EPISODE) == 539
    assert not [r for r in caplog.records if STORAGE_DOWN in r.getMessage()]
    assert scoring.error_counts["stored_plugin"] == 1
    assert "KeyError" in scoring.last_errors["stored_plugin"]


def scoring_db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'sublarr-test.db'}"


def test_core_works_without_the_built_in_plugins(plugin_manager):
    for name in ("db_weights", "provider_modifiers"):
        plugin_manager.unregister(name=name)
    r = result(format="ssa")
    assert compute_score(r, EPISODE) == 589
    assert r.score_breakdown == {"hash": 359, "series": 180, "format_bonus": 50}


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score_type", "weights", "field"),
    [
        ("series", {"hash": 1}, "score_type"),
        (None, {"hash": 1}, "score_type"),
        ("episode", {"bogus": 1}, "bogus"),
        ("movie", {"series": 1}, "series"),  # an episode key
        ("episode", {"hash": True}, "hash"),
        ("episode", {"hash": "5"}, "hash"),
        ("episode", {"hash": 5.0}, "hash"),
        ("episode", {"hash": None}, "hash"),
        ("episode", {"hash": 1001}, "hash"),
        ("episode", {"hash": -1001}, "hash"),
        ("episode", {"Hash": 1}, "Hash"),
        ("episode", {"provider:x": 1}, "provider:x"),
        ("episode", [("hash", 1)], "weights"),
    ],
)
def test_validate_weights_refuses(plugin_manager, score_type, weights, field):
    with pytest.raises(ValidationError) as err:
        validate_weights(score_type, weights)
    assert err.value.field == field
    assert field in str(err.value)


def test_validate_weights_accepts_the_range_edges(plugin_manager):
    assert validate_weights("episode", {"hash": 1000, "series": -1000, "format_bonus": 0}) == {
        "hash": 1000,
        "series": -1000,
        "format_bonus": 0,
    }
    assert validate_weights("movie", {}) == {}


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("", 1, "provider_name"),
        (" lead", 1, "provider_name"),
        ("x" * 101, 1, "provider_name"),
        (5, 1, "provider_name"),
        ("os", True, "os"),
        ("os", "5", "os"),
        ("os", 1001, "os"),
    ],
)
def test_validate_modifier_refuses(name, value, field):
    with pytest.raises(ValidationError) as err:
        validate_modifier(name, value)
    assert err.value.field == field


def test_storage_refuses_unknown_weight_keys_and_stores_nothing(scoring):
    from sublarr.core.db.scoring import get_scoring_weights, set_scoring_weights

    with pytest.raises(ValidationError) as err:
        set_scoring_weights("episode", {"hash": 400, "bogus": 3})
    assert "bogus" in str(err.value)
    assert get_scoring_weights("episode") == {}
    assert compute_score(result(), EPISODE) == 539


def test_switching_databases_drops_cached_weights(plugin_manager, tmp_path):
    """Scores never carry one database's stored weights into the next."""
    from sublarr.core import compute_score
    from sublarr.core.db import dispose_db, init_db
    from sublarr.core.db.scoring import set_scoring_weights
    from sublarr.core.scoring import EPISODE_SCORES
    from sublarr.core.scoring.models import SubtitleResult, VideoQuery

    query = VideoQuery(series_title="Dark", season=1, episode=1)
    try:
        init_db(f"sqlite:///{tmp_path / 'one.db'}")
        set_scoring_weights("episode", {"hash": 500})
        result = SubtitleResult(provider_name="x", subtitle_id="1", language="de", matches={"hash"})
        assert compute_score(result, query) == 500
        init_db(f"sqlite:///{tmp_path / 'two.db'}")
        assert compute_score(result, query) == EPISODE_SCORES["hash"]
    finally:
        dispose_db()


# -- one rule for every way in ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "accepted"),
    [
        ("Open Subs", False),
        (" opensubtitles", False),
        ("open/subs", False),
        ("OpenSubtitles.com", True),
        ("Subs4Free", True),
        ("addic7ed", True),
    ],
)
def test_a_provider_name_gets_the_same_answer_from_cli_api_storage_and_scorer(
    api_client, register_plugin, name, accepted
):
    """`sublarr providers modifier`, PUT /api/v1/scoring/modifiers, set_provider_modifier,
    presets and a plugin's provider_modifiers all apply sublarr.core.scoring.validation."""
    from click.testing import CliRunner

    from sublarr.core.cli.main import cli
    from sublarr.core.db.scoring import get_all_provider_modifiers, set_provider_modifier
    from sublarr.core.scoring.presets import validate_scoring_preset

    cli_out = CliRunner().invoke(cli, ["providers", "modifier", name, "5"])
    api_out = api_client.put("/api/v1/scoring/modifiers", json={"modifiers": {name: 6}})
    try:
        set_provider_modifier(name, 7)
        stored = True
    except ValidationError as exc:
        assert exc.field == "provider_name" and "not a provider name" in exc.reason
        stored = False
    preset = {"format": "sublarr-scoring-preset", "version": 1, "provider_modifiers": {name: 8}}
    try:
        validate_scoring_preset(preset)
        in_preset = True
    except ValidationError:
        in_preset = False

    class Table:
        @hookimpl
        def provider_modifiers(self):
            return {name: 9}

    register_plugin(Table(), name="table_plugin")
    invalidate_scoring_cache()
    scored = compute_score(result(name if accepted else "x"), EPISODE) - 539

    if accepted:
        assert cli_out.exit_code == 0, cli_out.output
        assert api_out.status_code == 200, api_out.get_json()
        assert stored and in_preset
        assert get_all_provider_modifiers()[name] == 7
        assert scored == 7 + 9
    else:
        assert cli_out.exit_code == 1 and "Error: provider_name:" in cli_out.output
        assert "Traceback" not in cli_out.output
        assert api_out.status_code == 422
        assert "not a provider name" in str(api_out.get_json()["detail"])
        assert not stored and not in_preset
        assert get_all_provider_modifiers() == {}
        assert scored == 0 and get_plugin_error_count("table_plugin") == 1


def get_plugin_error_count(name: str) -> int:
    from sublarr.core import get_plugin_manager

    return get_plugin_manager().error_counts[name]
