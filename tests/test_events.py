"""The event catalog and emit_event: what is published, and every bad input refused."""

from __future__ import annotations

import math

import blinker
import pytest
from flask import Flask

from sublarr.core import (
    EVENT_CATALOG,
    InvalidPayloadError,
    SublarrError,
    UnknownEventError,
    emit_event,
    hookimpl,
)
from sublarr.core.events import CATALOG_VERSION, sublarr_signals
from sublarr.core.events.validation import forbidden_key

PLAN_EVENTS = {
    "subtitle_downloaded",
    "translation_complete",
    "translation_failed",
    "provider_search_complete",
    "provider_failed",
    "wanted_scan_complete",
    "wanted_item_processed",
    "upgrade_complete",
    "batch_complete",
    "webhook_received",
    "config_updated",
    "whisper_complete",
    "whisper_failed",
    "hook_executed",
}


def test_catalog_holds_the_plans_events_as_named_signals():
    assert set(EVENT_CATALOG) >= PLAN_EVENTS
    assert len(EVENT_CATALOG) >= 14
    assert CATALOG_VERSION == 2
    for name, entry in EVENT_CATALOG.items():
        assert isinstance(entry["signal"], blinker.NamedSignal)
        assert entry["signal"] is sublarr_signals.signal(name)
        assert entry["label"] and entry["description"]
        assert entry["payload_keys"], name


def test_no_payload_key_names_a_secret_or_an_absolute_path():
    for name, entry in EVENT_CATALOG.items():
        for key in entry["payload_keys"]:
            assert not forbidden_key(key), (name, key)
            assert "abs" not in key and key != "path" and key != "file_path", (name, key)


def test_emit_delivers_validated_payload_with_missing_keys_as_none(event_recorder):
    event_id = emit_event("subtitle_downloaded", {"title": "Dark", "season": 1, "episode": 2})
    event = event_recorder.assert_emitted("subtitle_downloaded", title="Dark", season=1)
    assert event.event_id == event_id and len(event_id) == 32
    assert set(event.payload) == set(EVENT_CATALOG["subtitle_downloaded"]["payload_keys"])
    assert event.payload["language"] is None


def test_each_emission_gets_its_own_id(event_recorder):
    ids = {emit_event("config_updated", {"section": "general"}) for _ in range(20)}
    assert len(ids) == 20


def test_unknown_event_name_is_refused(event_recorder):
    with pytest.raises(UnknownEventError, match="unknown event 'subtitle_downloadd'"):
        emit_event("subtitle_downloadd", {})
    with pytest.raises(UnknownEventError):
        emit_event(None, {})  # type: ignore[arg-type]
    assert event_recorder.events == []


@pytest.mark.parametrize(
    ("data", "key", "reason"),
    [
        ({"title": "x", "colour": "red"}, "colour", "not a payload key"),
        ({"api_key": "abc"}, "api_key", "credentials"),
        ({"password": "hunter2"}, "password", "credentials"),
        ({"relative_path": "/media/tv/Dark/S01E01.srt"}, "relative_path", "absolute"),
        ({"relative_path": "C:\\media\\Dark.srt"}, "relative_path", "absolute"),
        ({"relative_path": "~/Dark.srt"}, "relative_path", "absolute"),
        ({"title": object()}, "title", "not JSON-serialisable"),
        ({"title": {1, 2}}, "title", "not JSON-serialisable"),
        ({"score": math.nan}, "score", "not JSON-serialisable"),
        ({"title": {"nested": {"auth_token": "x"}}}, "title.nested.auth_token", "credentials"),
        ({"title": ["ok", "/etc/passwd"]}, "title", "absolute"),
        ({"title": {3: "x"}}, "title", "not a string"),
    ],
)
def test_bad_payload_is_refused_naming_the_key(event_recorder, data, key, reason):
    with pytest.raises(InvalidPayloadError) as info:
        emit_event("subtitle_downloaded", data)
    assert info.value.key == key
    assert key in str(info.value) and reason in str(info.value)
    assert event_recorder.events == []


def test_payload_must_be_a_mapping(event_recorder):
    with pytest.raises(InvalidPayloadError, match="must be a dict, got list"):
        emit_event("subtitle_downloaded", ["title"])  # type: ignore[arg-type]


def test_none_payload_means_all_keys_none(event_recorder):
    emit_event("batch_complete")
    assert set(event_recorder.last("batch_complete").payload.values()) == {None}


def test_relative_paths_and_urls_are_fine(event_recorder):
    emit_event("subtitle_downloaded", {"relative_path": "Dark/Season 1/Dark.S01E01.en.srt"})
    event_recorder.assert_emitted("subtitle_downloaded", relative_path="Dark/Season 1/Dark.S01E01.en.srt")


def test_blinker_receivers_get_the_payload_and_the_app_as_sender(plugin_manager):
    seen = []

    def receiver(sender, data):
        seen.append((sender, data))

    signal = EVENT_CATALOG["wanted_scan_complete"]["signal"]
    signal.connect(receiver)
    try:
        emit_event("wanted_scan_complete", {"total_items": 3})
        app = Flask("host")
        with app.app_context():
            emit_event("wanted_scan_complete", {"total_items": 4})
    finally:
        signal.disconnect(receiver)
    assert seen[0][0] is None and seen[0][1]["total_items"] == 3
    assert seen[1][0] is app and seen[1][1]["total_items"] == 4


def test_a_raising_receiver_does_not_stop_plugins(event_recorder, caplog):
    def broken(sender, data):
        raise RuntimeError("receiver boom")

    signal = EVENT_CATALOG["provider_failed"]["signal"]
    signal.connect(broken)
    try:
        emit_event("provider_failed", {"provider_name": "opensubtitles", "error": "timeout"})
    finally:
        signal.disconnect(broken)
    event_recorder.assert_emitted("provider_failed", provider_name="opensubtitles")
    assert "receiver boom" in caplog.text


def test_plugins_get_private_copies_of_the_payload(register_plugin, event_recorder):
    class Mutator:
        @hookimpl(tryfirst=True)
        def on_event(self, payload):
            payload["title"] = "changed"

    register_plugin(Mutator())
    emit_event("upgrade_complete", {"title": "original"})
    assert event_recorder.last("upgrade_complete").payload["title"] == "original"


def test_re_emitting_in_a_loop_is_stopped(register_plugin, caplog):
    calls = []

    class Looper:
        @hookimpl
        def on_event(self, event_name):
            calls.append(event_name)
            emit_event("batch_complete", {})

    register_plugin(Looper())
    emit_event("batch_complete", {})
    assert len(calls) == 8  # the 9th nested emission is refused
    assert "re-emitting in a loop" in caplog.text


def test_loop_error_is_a_sublarr_error():
    assert issubclass(UnknownEventError, SublarrError)
    assert issubclass(InvalidPayloadError, ValueError)


def test_event_ids_and_timestamps(event_recorder, register_plugin):
    from datetime import datetime, timezone

    stamps = []

    class Stamps:
        @hookimpl
        def on_event(self, timestamp):
            stamps.append(timestamp)

    register_plugin(Stamps())
    before = datetime.now(timezone.utc)
    emit_event("batch_complete", {})
    after = datetime.now(timezone.utc)
    parsed = datetime.fromisoformat(stamps[0])
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= parsed <= after


def test_timestamps_are_exact_iso_8601_milliseconds():
    import random
    from datetime import datetime, timedelta, timezone

    from sublarr.core.events.emit import _timestamp

    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    rng = random.Random(3)
    moments = [0, 999_999, 59_001_000_000, 59_000_999_999, *(rng.randrange(4 * 10**18) for _ in range(2000))]
    moments += [m + d for m in moments[:50] for d in (0, 400_000, 999_000_000, 10**9)]  # same second, next
    for ns in moments:
        expected = (epoch + timedelta(microseconds=ns // 1000)).isoformat(timespec="milliseconds")
        assert _timestamp(ns) == expected, ns


def test_a_forked_child_gets_different_event_ids(plugin_manager):
    import os

    parent_id = emit_event("batch_complete", {})
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.write(write, emit_event("batch_complete", {}).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child_id = os.read(read, 64).decode()
    assert len(child_id) == 32 and child_id[:16] != parent_id[:16]
