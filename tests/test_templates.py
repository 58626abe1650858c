"""Payload templates: the sandbox's bounds, checks when saved, and presets against each service's shape.

The preset tests deliver for real (worker pool -> HTTP -> receiver on 127.0.0.1) and check
the body the receiver got against the request shape the service documents.
"""

from __future__ import annotations

import re
import time

import pytest
import standardwebhooks

from sublarr.core import emit_event
from sublarr.core.delivery import add_webhook, get_webhook, templates, update_webhook
from sublarr.core.delivery import store as deliveries
from sublarr.core.delivery.template_presets import PRESETS, preset_template
from sublarr.core.delivery.templates import TemplateRenderError, check_template, render, template_context
from sublarr.core.errors import ValidationError

from conftest import wait_logs

EVENT = "subtitle_downloaded"
PAYLOAD = {
    "media_type": "episode",
    "title": "The Last Light",
    "series_title": "Dark",
    "season": 1,
    "episode": 3,
    "language": "de",
    "provider_name": "opensubtitles",
    "score": 350,
    "format": "srt",
    "hearing_impaired": False,
    "relative_path": "Dark/Season 01/Dark - S01E03.de.srt",
}


def _context(event=EVENT, payload=None):
    return template_context("msg_x", event, "ev_1", "2026-11-28T12:00:00.000+00:00", payload or PAYLOAD)


def _render(source, event=EVENT):
    check_template(source, event)
    return render(source, _context(event))


# ---- checks when saved ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ ''.__class__.__mro__ }}", "line 1: attributes starting with '_'"),
        ("ok\n{{ payload.__class__ }}", "line 2: attributes starting with '_'"),
        ("{{ payload['__init__'] }}", "attributes starting with '_'"),
        ("a\nb\n{{ payload.titel }}", "line 3: payload has no key 'titel'"),
        ("{{ secrets }}", "unknown name 'secrets'"),
        ("{{ __sublarr_budget }}", "is not available"),
        ("{% if payload.title %}", "line 1: syntax error"),
        ("{{ payload.title|center(10) }}", "No filter named 'center'"),
        ("{{ lipsum(5) }}", "unknown name 'lipsum'"),
        ("{% for x in payload recursive %}{{ loop(x) }}{% endfor %}", "recursive loops"),
        ("x" * (templates.MAX_SOURCE_CHARS + 1), "longer than"),
    ],
)
def test_templates_are_refused_when_saved_naming_the_line(source, expected):
    with pytest.raises(ValidationError) as refused:
        check_template(source, EVENT)
    assert refused.value.field == "body_template"
    assert expected in str(refused.value)


def test_payload_keys_of_another_event_are_refused_but_a_wildcard_takes_any():
    with pytest.raises(ValidationError, match="payload has no key 'batch_id'"):
        check_template("{{ payload.batch_id }}", EVENT)
    assert check_template("{{ payload.batch_id }}", "*")
    assert check_template("{{ payload.batch_id }}", ["batch_complete", EVENT])


# ---- bounds while rendering ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{% for i in range(10**9) %}x{% endfor %}", r"range\(\) of 1000000000 items"),
        ("{{ range(10**9)|list|length }}", r"range\(\) of"),
        ("{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}", "steps"),
        ("{{ 'x' * 10**9 }}", "repeating a value"),
        ("{{ 10 ** (10 ** 8) }}", "too large a number"),
        ("{% set x = 'a' * 60000 %}{{ x ~ x }}", "joining values"),
        ("{% set x = 'a' * 60000 %}{{ x + x }}", "joining values"),
        ("{{ ('a' * 60000)|replace('a', 'bb') }}", "replace would pass"),
        ("{{ '{:>999999999}'.format(1) }}", "unsafe"),
        ("{{ 'a'.ljust(10**9) }}", "unsafe"),
        ("{{ '%0999999999d' % 1 }}", "formatting of text"),
        ("{% for i in range(9999) %}{{ 'x' * 5000 }}{% endfor %}", "longer than"),
        ("{% macro f() %}{{ f() }}{{ f() }}{% endmacro %}{{ f() }}", "template"),
        (
            "{% set n = namespace(s='') %}{% for i in range(9000) %}{% set n.s = n.s ~ 'abcdefghij' %}"
            "{% endfor %}{{ n.s|length }}",
            "joining values|took longer than",
        ),  # fmt: skip
        ("{{ payload|tojson(indent=100000000) }}", "indent"),
        ("{{ payload.items.__globals__ }}", "_"),
    ],
)
def test_runaway_templates_are_stopped_with_a_clear_error(source, expected):
    started = time.monotonic()
    with pytest.raises((TemplateRenderError, ValidationError)) as stopped:
        _render(source)
    assert re.search(expected, str(stopped.value)), stopped.value
    assert time.monotonic() - started < 5


def test_templates_see_event_ids_timestamp_and_payload():
    out = _render("{{ event }}|{{ event_label }}|{{ id }}|{{ event_id }}|{{ timestamp }}|{{ payload.title }}")
    assert (
        out
        == "subtitle_downloaded|Subtitle downloaded|msg_x|ev_1|2026-11-28T12:00:00.000+00:00|The Last Light"
    )
    assert _render("{{ payload.season + 1 }} {{ payload|tojson }}").startswith('2 {"media_type": "episode"')
    # a key the payload lacks renders empty (events may leave keys out), tojson gives null
    assert _render("[{{ payload.year }}]{{ payload.year|tojson }}") == "[]null"


# ---- presets against each service's documented request shape -------------------------------


def _text(value, max_chars, *, min_chars=0):
    assert isinstance(value, str) and min_chars <= len(value) <= max_chars, value
    return value


def check_discord(body, options):
    # https://discord.com/developers/docs/resources/webhook#execute-webhook
    assert set(body) <= {"content", "username", "avatar_url", "tts", "embeds", "allowed_mentions"}
    assert body.get("content") or body.get("embeds")
    assert isinstance(body["embeds"], list) and 1 <= len(body["embeds"]) <= 10
    for embed in body["embeds"]:
        assert set(embed) <= {"title", "description", "url", "timestamp", "color", "footer", "fields"}
        _text(embed["title"], 256)
        _text(embed["description"], 4096)
        assert embed["timestamp"].startswith("2") and "T" in embed["timestamp"]  # ISO8601
        assert len(embed["fields"]) <= 25
        for field in embed["fields"]:
            assert set(field) <= {"name", "value", "inline"}
            _text(field["name"], 256, min_chars=1)
            _text(field["value"], 1024, min_chars=1)
        _text(embed["footer"]["text"], 2048)
    assert "Dark" in body["embeds"][0]["description"]


def check_slack(body, options):
    # https://api.slack.com/messaging/webhooks : "text", optional Block Kit "blocks"
    _text(body["text"], 40000, min_chars=1)
    for block in body["blocks"]:
        assert block["type"] == "section"
        assert block["text"]["type"] in ("mrkdwn", "plain_text")
        _text(block["text"]["text"], 3000, min_chars=1)
    assert "Dark" in body["text"]


def check_ntfy(body, options):
    # https://docs.ntfy.sh/publish/#publish-as-json : POST to the root URL, "topic" required
    assert set(body) <= {"topic", "message", "title", "tags", "priority", "actions", "click", "icon"}
    assert body["topic"] == options["topic"]
    _text(body["message"], 4096, min_chars=1)
    _text(body["title"], 256)
    assert all(isinstance(tag, str) for tag in body["tags"])


def check_gotify(body, options):
    # https://gotify.net/api-docs#/message/createMessage : "message" required, "title", "priority" int
    assert set(body) <= {"title", "message", "priority", "extras"}
    _text(body["message"], 1_000_000, min_chars=1)
    assert isinstance(body["title"], str) and isinstance(body["priority"], int)
    assert body["extras"]["client::display"]["contentType"] in ("text/plain", "text/markdown")


def check_telegram(body, options):
    # https://core.telegram.org/bots/api#sendmessage : chat_id (Integer or String), text 1-4096
    assert body["chat_id"] == options["chat_id"]
    _text(body["text"], 4096, min_chars=1)
    assert set(body) <= {"chat_id", "text", "parse_mode", "disable_web_page_preview", "disable_notification"}


def check_home_assistant(body, options):
    # https://developers.home-assistant.io/docs/api/rest (POST /api/services/notify/<service>):
    # "message" required, "title" and "data" optional
    assert set(body) <= {"message", "title", "target", "data"}
    _text(body["message"], 100_000, min_chars=1)
    assert isinstance(body["title"], str)
    assert body["data"]["event"] == EVENT and body["data"]["payload"]["series_title"] == "Dark"


SHAPES = {
    "discord": ({}, check_discord),
    "slack": ({}, check_slack),
    "ntfy": ({"topic": "sublarr_subs"}, check_ntfy),
    "gotify": ({}, check_gotify),
    "telegram": ({"chat_id": -1001234567890}, check_telegram),
    "home_assistant": ({}, check_home_assistant),
}


def test_every_preset_has_a_shape_test():
    assert set(SHAPES) == set(PRESETS)


@pytest.fixture
def env(delivery_env, sublarr_db):
    return sublarr_db


@pytest.mark.parametrize("preset", sorted(SHAPES))
def test_presets_deliver_the_services_documented_body(env, webhook_receiver, delivery_pool, preset):
    options, check = SHAPES[preset]
    hook = add_webhook(
        preset, EVENT, webhook_receiver.url_for(f"/{preset}"), preset=preset, preset_options=options or None
    )
    assert hook["body_template"] == preset_template(preset, options)
    delivery_pool()
    emit_event(EVENT, PAYLOAD)
    [request] = webhook_receiver.wait_for(1)
    assert request.headers["content-type"] == "application/json"
    check(request.json, options)
    # still signed: the body the receiver got verifies with the webhook's secret
    standardwebhooks.Webhook(hook["secret"]).verify(request.body, request.headers)
    [log] = wait_logs(1)
    assert log["success"] and log["delivery_id"] == request.headers["webhook-id"]


@pytest.mark.parametrize("preset", sorted(SHAPES))
def test_presets_render_valid_bodies_for_every_event(preset):
    import json

    from sublarr.core.delivery.fire import sample_payload
    from sublarr.core.events.catalog import EVENT_CATALOG

    options, _ = SHAPES[preset]
    source = preset_template(preset, options)
    for event in EVENT_CATALOG:
        check_template(source, event)
        json.loads(render(source, _context(event, sample_payload(event))))


def test_preset_options_are_checked():
    with pytest.raises(ValidationError, match="ntfy needs"):
        preset_template("ntfy", {})
    with pytest.raises(ValidationError, match="ntfy needs"):
        preset_template("ntfy", {"topic": "{{ payload }}"})
    with pytest.raises(ValidationError, match="telegram needs"):
        preset_template("telegram", {"chat_id": "x{{"})
    with pytest.raises(ValidationError, match="unknown preset"):
        preset_template("myspace")
    with pytest.raises(ValidationError, match="no options"):
        preset_template("discord", {"x": 1})


def test_a_custom_template_with_its_content_type(env, webhook_receiver, delivery_pool):
    add_webhook(
        "text",
        EVENT,
        webhook_receiver.url,
        body_template="{{ payload.series_title }} S{{ payload.season }}E{{ payload.episode }} ({{ id }})",
        content_type="text/plain",
    )
    delivery_pool()
    emit_event(EVENT, PAYLOAD)
    [request] = webhook_receiver.wait_for(1)
    assert request.headers["content-type"] == "text/plain"
    assert request.body.decode() == f"Dark S1E3 ({request.headers['webhook-id']})"


def test_no_template_keeps_the_standard_envelope(env, webhook_receiver, delivery_pool):
    hook = add_webhook("plain", EVENT, webhook_receiver.url)
    assert hook["body_template"] == "" and hook["filters"] == []
    delivery_pool()
    emit_event(EVENT, PAYLOAD)
    [request] = webhook_receiver.wait_for(1)
    assert set(request.json) == {"id", "type", "version", "timestamp", "data"}


def test_a_template_failing_at_delivery_is_a_failed_attempt_with_a_clear_error(
    env, webhook_receiver, delivery_pool
):
    add_webhook(
        "bad",
        EVENT,
        webhook_receiver.url,
        body_template="{% for i in range(5000) %}{{ 'x' * 60 }}{% endfor %}",
    )
    delivery_pool()
    emit_event(EVENT, PAYLOAD)
    [log] = wait_logs(1)
    assert not log["success"] and log["error"].startswith("body template: the output is longer than")
    row = deliveries.get_delivery(log["delivery_id"])
    assert row["status"] == "failed" and row["attempts"] == 1  # not retried: it would fail the same way
    time.sleep(0.2)
    assert webhook_receiver.requests == []


def test_templates_and_filters_are_rechecked_when_the_event_changes(env, webhook_receiver):
    hook = add_webhook("t", EVENT, webhook_receiver.url, body_template="{{ payload.language }}")
    with pytest.raises(ValidationError, match="payload has no key 'language'"):
        update_webhook(hook["id"], event_name="batch_complete")
    assert get_webhook(hook["id"])["event_name"] == EVENT  # nothing changed
    update_webhook(hook["id"], event_name="batch_complete", body_template="{{ payload.batch_id }}")
    with pytest.raises(ValidationError, match="payload has no key 'title'"):
        update_webhook(hook["id"], body_template="{{ payload.title }}")
    assert get_webhook(hook["id"])["body_template"] == "{{ payload.batch_id }}"


def test_cli_webhooks_add_with_a_preset_and_filters(env, webhook_receiver, delivery_pool):
    from click.testing import CliRunner

    from sublarr.core.cli.main import cli

    result = CliRunner().invoke(
        cli,
        ["webhooks", "add", "n", EVENT, webhook_receiver.url, "--preset", "ntfy",
         "--preset-option", "topic=subs", "--filter", "language == de"],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = get_webhook(1)
    assert '"topic": "subs"' in shown["body_template"]
    assert shown["filters"] == [{"field": "language", "op": "==", "value": "de"}]
    delivery_pool()
    emit_event(EVENT, {**PAYLOAD, "language": "en"})
    emit_event(EVENT, PAYLOAD)
    [request] = webhook_receiver.wait_for(1)
    check_ntfy(request.json, {"topic": "subs"})
