"""sublarr.core.db.scoring on real SQLite files: weights, provider modifiers, events, validation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sublarr.core import NotFoundError, ValidationError, hookimpl
from sublarr.core.db import get_engine
from sublarr.core.db.models import TABLE_NAMES, Base
from sublarr.core.db.scoring import (
    delete_provider_modifier,
    get_all_provider_modifiers,
    get_all_scoring_weights,
    get_provider_modifier,
    get_scoring_weights,
    replace_scoring_config,
    reset_scoring_weights,
    set_provider_modifier,
    set_scoring_weights,
)
from sublarr.core.scoring import EPISODE_SCORES, MOVIE_SCORES

pytestmark = pytest.mark.usefixtures("any_db")  # each test on SQLite and on PostgreSQL


def snapshot() -> dict[str, list[tuple]]:
    """Every row of the five tables, to prove a refused call changed nothing."""
    with get_engine().connect() as conn:
        return {
            name: sorted(tuple(row) for row in conn.execute(select(Base.metadata.tables[name])))
            for name in TABLE_NAMES
        }


class Fansub:
    """A plugin declaring a weight key of its own for both score types."""

    @hookimpl
    def weight_keys(self, score_type):
        return ["fansub_group"]


# ---- weights -------------------------------------------------------------------------------


def test_weights_are_stored_per_type_and_overwritten_in_place():
    assert get_scoring_weights("episode") == {}
    set_scoring_weights("episode", {"hash": 400, "year": -5})
    set_scoring_weights("movie", {"hash": 100})
    set_scoring_weights("episode", {"hash": 1000})
    assert get_scoring_weights("episode") == {"hash": 1000, "year": -5}
    assert get_scoring_weights("movie") == {"hash": 100}
    rows = snapshot()["scoring_weights"]
    assert len(rows) == 3  # the upsert updated the existing row


def test_all_weights_fill_in_the_defaults():
    set_scoring_weights("episode", {"year": 1})
    assert get_all_scoring_weights() == {
        "episode": dict(sorted({**EPISODE_SCORES, "year": 1}.items())),
        "movie": dict(sorted(MOVIE_SCORES.items())),
    }


def test_all_weights_hold_stored_keys_a_plugin_declares(register_plugin):
    register_plugin(Fansub(), name="fansub")
    set_scoring_weights("movie", {"fansub_group": 7})
    everything = get_all_scoring_weights()
    assert everything["movie"]["fansub_group"] == 7 and everything["movie"]["title"] == 60
    assert "fansub_group" not in everything["episode"]


def test_reset_weights_of_one_type_or_all():
    set_scoring_weights("episode", {"hash": 1})
    set_scoring_weights("movie", {"hash": 2})
    reset_scoring_weights("movie")
    assert (get_scoring_weights("episode"), get_scoring_weights("movie")) == ({"hash": 1}, {})
    reset_scoring_weights()
    assert get_scoring_weights("episode") == {}


def test_unknown_weight_keys_are_refused_and_nothing_is_written(event_recorder):
    set_scoring_weights("episode", {"hash": 1})
    event_recorder.clear()
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        set_scoring_weights("episode", {"year": 2, "bogus": 3})
    assert error.value.field == "weights.bogus"
    assert "unknown episode weight key" in str(error.value)
    assert snapshot() == before
    event_recorder.assert_not_emitted("config_updated")
    with pytest.raises(ValidationError) as error:
        set_scoring_weights("movie", {"series": 3})  # an episode key
    assert error.value.field == "weights.series"


def test_a_key_a_plugin_declares_can_be_stored_within_range(register_plugin):
    with pytest.raises(ValidationError):
        set_scoring_weights("episode", {"fansub_group": 5})
    register_plugin(Fansub(), name="fansub")
    set_scoring_weights("episode", {"fansub_group": 5})
    assert get_scoring_weights("episode") == {"fansub_group": 5}
    with pytest.raises(ValidationError) as error:
        set_scoring_weights("episode", {"fansub_group": 1001})
    assert error.value.field == "weights.fansub_group"


@pytest.mark.parametrize(
    ("score_type", "weights", "field"),
    [
        ("series", {"hash": 1}, "score_type"),
        ("", {"hash": 1}, "score_type"),
        (None, {"hash": 1}, "score_type"),
        ("episode", [("hash", 1)], "weights"),
        ("episode", None, "weights"),
        ("episode", {"hash": True}, "weights.hash"),
        ("episode", {"hash": "400"}, "weights.hash"),
        ("episode", {"hash": 1.0}, "weights.hash"),
        ("episode", {"hash": 1001}, "weights.hash"),
        ("episode", {"hash": -1001}, "weights.hash"),
        ("episode", {"year": 1, "hash": None}, "weights.hash"),
        ("episode", {"": 1}, "weights"),
        ("episode", {3: 1}, "weights.3"),
        ("episode", {"has space": 1}, "weights.has space"),
        ("episode", {"Hash": 1}, "weights.Hash"),
    ],
)
def test_bad_weights_are_refused_and_nothing_is_written(event_recorder, score_type, weights, field):
    set_scoring_weights("episode", {"hash": 10})
    event_recorder.clear()
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        set_scoring_weights(score_type, weights)
    assert error.value.field == field
    assert snapshot() == before
    event_recorder.assert_not_emitted("config_updated")


def test_extreme_weights_are_accepted():
    set_scoring_weights("movie", {"hash": -1000, "year": 1000})
    assert get_scoring_weights("movie") == {"hash": -1000, "year": 1000}


def test_get_and_reset_refuse_unknown_score_types():
    with pytest.raises(ValidationError):
        get_scoring_weights("tv")
    with pytest.raises(ValidationError):
        reset_scoring_weights("tv")


# ---- provider modifiers --------------------------------------------------------------------


def test_provider_modifiers_crud():
    assert get_provider_modifier("opensubtitles") == 0
    set_provider_modifier("opensubtitles", -20)
    set_provider_modifier("jimaku", 1000)
    set_provider_modifier("opensubtitles", 15)
    assert get_provider_modifier("opensubtitles") == 15
    assert get_all_provider_modifiers() == {"jimaku": 1000, "opensubtitles": 15}
    delete_provider_modifier("jimaku")
    assert get_all_provider_modifiers() == {"opensubtitles": 15}
    with pytest.raises(NotFoundError):
        delete_provider_modifier("jimaku")


@pytest.mark.parametrize(
    ("name", "modifier", "field"),
    [
        ("", 1, "provider_name"),
        ("   ", 1, "provider_name"),
        ("p" * 101, 1, "provider_name"),
        (None, 1, "provider_name"),
        ("/etc/passwd", 1, "provider_name"),
        ("two words", 1, "provider_name"),
        ("ok", True, "modifier"),
        ("ok", "5", "modifier"),
        ("ok", 2.5, "modifier"),
        ("ok", 1001, "modifier"),
        ("ok", -1001, "modifier"),
    ],
)
def test_bad_modifiers_are_refused_and_nothing_is_written(event_recorder, name, modifier, field):
    set_provider_modifier("kept", 3)
    event_recorder.clear()
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        set_provider_modifier(name, modifier)
    assert error.value.field == field
    assert snapshot() == before
    event_recorder.assert_not_emitted("config_updated")


def test_a_provider_name_of_100_characters_is_accepted():
    set_provider_modifier("p" * 100, -1000)
    assert get_provider_modifier("p" * 100) == -1000


# ---- config_updated events -----------------------------------------------------------------


def test_each_write_emits_config_updated_after_the_commit(event_recorder, register_plugin):
    seen_in_handler: list[dict] = []

    class Reader:
        @hookimpl
        def on_event(self, event_name, payload):
            if event_name == "config_updated" and payload["section"] == "scoring_weights":
                seen_in_handler.append(get_scoring_weights("episode"))  # the write is visible

    register_plugin(Reader(), name="reader")
    set_scoring_weights("episode", {"hash": 400, "year": 1})
    event_recorder.assert_emitted(
        "config_updated", section="scoring_weights", keys=["episode.hash", "episode.year"]
    )
    assert seen_in_handler == [{"hash": 400, "year": 1}]

    set_provider_modifier("opensubtitles", -20)
    event_recorder.assert_emitted("config_updated", section="provider_modifiers", keys=["opensubtitles"])
    delete_provider_modifier("opensubtitles")
    assert len(event_recorder.of("config_updated")) == 3

    reset_scoring_weights("episode")
    assert event_recorder.last("config_updated").payload == {
        "section": "scoring_weights",
        "keys": ["episode.hash", "episode.year"],
    }
    event_recorder.clear()
    reset_scoring_weights()  # nothing stored: nothing written, nothing emitted
    set_scoring_weights("movie", {})
    event_recorder.assert_not_emitted("config_updated")


def test_hook_and_webhook_writes_emit_nothing(event_recorder):
    from sublarr.core.db.hooks import create_hook_config, create_webhook_config, update_hook_config

    hook = create_hook_config("h", "batch_complete", "h.sh")
    update_hook_config(hook["id"], enabled=False)
    create_webhook_config("w", "*", "https://example.com/")
    assert event_recorder.names() == []


# ---- replacing everything (preset import) --------------------------------------------------


def test_replace_scoring_config_replaces_everything_at_once(event_recorder):
    set_scoring_weights("episode", {"hash": 1, "year": 2})
    set_scoring_weights("movie", {"hash": 3})
    set_provider_modifier("old", 5)
    event_recorder.clear()

    replace_scoring_config({"episode": {"year": 9}}, {"new": -7, "other": 0})
    assert get_scoring_weights("episode") == {"year": 9}
    assert get_scoring_weights("movie") == {}
    assert get_all_provider_modifiers() == {"new": -7, "other": 0}
    event_recorder.assert_emitted(
        "config_updated", section="scoring_weights", keys=["episode.hash", "episode.year", "movie.hash"]
    )
    event_recorder.assert_emitted(
        "config_updated", section="provider_modifiers", keys=["new", "old", "other"]
    )

    replace_scoring_config({}, {})
    assert snapshot()["scoring_weights"] == [] and snapshot()["provider_score_modifiers"] == []


@pytest.mark.parametrize(
    ("weights", "modifiers", "field"),
    [
        ({"episode": {"hash": 5}, "series": {"hash": 1}}, {}, "score_type"),
        ({"episode": {"hash": True}}, {}, "weights.hash"),
        ({"episode": {"hash": 5}}, {"ok": 1, "bad name!": 1}, "provider_name"),
        ({"episode": {"hash": 5}}, {"ok": 5000}, "modifiers.ok"),
        ([], {}, "weights"),
        ({}, [("a", 1)], "modifiers"),
        ({"movie": "hash=5"}, {}, "weights"),
    ],
)
def test_replace_scoring_config_validates_everything_first(weights, modifiers, field):
    set_scoring_weights("episode", {"hash": 1})
    set_provider_modifier("kept", 2)
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        replace_scoring_config(weights, modifiers)
    assert error.value.field == field
    assert snapshot() == before
