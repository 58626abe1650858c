"""The REST API through the Flask test client: every route, its success and its error paths.

The app is the real one (``create_app``) on a real SQLite file in a temp data dir.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from sublarr.core import hookimpl
from sublarr.core.delivery.signing import generate_secret, mask_secret

API = "/api/v1"


def error_of(response, status: int) -> object:
    """Assert ``response`` is an ``{"error", "detail"}`` error with ``status``; return its detail."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert set(body) == {"error", "detail"}, body
    return body["detail"]


@pytest.fixture
def hooks_dir(sublarr_app) -> Path:
    directory = sublarr_app.extensions["sublarr.settings"].effective_hooks_dir
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def script(hooks_dir) -> str:
    path = hooks_dir / "notify.sh"
    path.write_text('#!/bin/sh\necho "got $SUBLARR_EVENT_NAME"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return "notify.sh"


# ---- events ----------------------------------------------------------------------------


def test_catalog_lists_builtin_and_plugin_events(api_client, register_plugin):
    class Events:
        @hookimpl
        def register_events(self, register):
            register("backup.finished", "Backup finished", "", ["file_count"])

    register_plugin(Events(), name="backup")
    body = api_client.get(f"{API}/events/catalog").get_json()
    names = {e["name"]: e for e in body["events"]}
    assert body["version"] == 2
    assert names["webhook_received"]["payload_keys"][:7] == [
        "source",
        "event_type",
        "media_type",
        "title",
        "year",
        "season",
        "episode",
    ]
    assert {"instance_name", "tvdb_id", "release_group", "relative_path"} <= set(
        names["webhook_received"]["payload_keys"]
    )
    assert names["backup.finished"]["source"] == "backup"


def test_emit_reaches_plugins_and_socketio(api_client, event_recorder, socketio_client):
    response = api_client.post(f"{API}/events/subtitle_downloaded/emit", json={"title": "Dark", "season": 1})
    assert response.status_code == 202
    event_id = response.get_json()["event_id"]
    recorded = event_recorder.assert_emitted("subtitle_downloaded", title="Dark", season=1)
    assert recorded.event_id == event_id
    assert socketio_client.get_received()[0]["args"][0]["title"] == "Dark"


def test_emit_without_body_sends_an_empty_payload(api_client, event_recorder):
    assert api_client.post(f"{API}/events/batch_complete/emit").status_code == 202
    assert event_recorder.last("batch_complete").payload["total"] is None


@pytest.mark.parametrize(
    ("name", "body", "status", "culprit"),
    [
        ("no_such_event", {}, 404, "no_such_event"),
        ("subtitle_downloaded", {"titel": "Dark"}, 422, "titel"),
        ("subtitle_downloaded", {"relative_path": "/media/tv/x.srt"}, 422, "relative_path"),
        ("subtitle_downloaded", {"title": "Dark", "api_key": "x"}, 422, "api_key"),
    ],
)
def test_emit_refuses_bad_events(api_client, event_recorder, name, body, status, culprit):
    detail = error_of(api_client.post(f"{API}/events/{name}/emit", json=body), status)
    assert culprit in str(detail)
    assert event_recorder.events == []


def test_bodies_that_are_not_json_objects(api_client):
    url = f"{API}/events/subtitle_downloaded/emit"
    bad_json = api_client.post(url, data="{bad", content_type="application/json")
    assert "not valid JSON" in error_of(bad_json, 400)
    form = api_client.post(url, data="title=x", content_type="text/plain")
    assert "must be JSON" in error_of(form, 400)
    assert error_of(api_client.post(url, json=["title"]), 422)
    surrogate = '{"title": "Dark \\ud800"}'  # valid JSON, not valid text
    for path in (url, "/api/v1/hooks", "/api/v1/webhook/radarr"):
        refused = api_client.post(path, data=surrogate, content_type="application/json")
        assert "surrogate" in error_of(refused, 400)
    deep = "[" * 100_000 + "]" * 100_000
    for path in (url, "/api/v1/webhook/sonarr"):
        nested = api_client.post(path, data=deep, content_type="application/json")
        assert "nested too deeply" in error_of(nested, 400)
    assert error_of(api_client.post(url, data=b"x" * (1024 * 1024 + 1), content_type="application/json"), 413)


def test_unknown_route_and_wrong_method(api_client):
    assert error_of(api_client.get(f"{API}/nothing-here"), 404)
    assert error_of(api_client.delete(f"{API}/events/catalog"), 405)


# ---- hooks -----------------------------------------------------------------------------


def test_hook_crud(api_client, script):
    created = api_client.post(
        f"{API}/hooks",
        json={"name": "notify", "event_name": "subtitle_downloaded", "script_path": script},
    )
    assert created.status_code == 201
    hook = created.get_json()
    assert hook["enabled"] is True and hook["timeout_seconds"] == 30

    assert api_client.get(f"{API}/hooks").get_json()["hooks"] == [hook]
    assert api_client.get(f"{API}/hooks/{hook['id']}").get_json() == hook

    changed = api_client.put(f"{API}/hooks/{hook['id']}", json={"enabled": False, "timeout_seconds": 5})
    assert changed.status_code == 200
    assert changed.get_json()["enabled"] is False and changed.get_json()["timeout_seconds"] == 5
    assert api_client.put(f"{API}/hooks/{hook['id']}", json={}).get_json()["timeout_seconds"] == 5

    assert api_client.delete(f"{API}/hooks/{hook['id']}").status_code == 204
    assert error_of(api_client.get(f"{API}/hooks/{hook['id']}"), 404)
    assert api_client.get(f"{API}/hooks").get_json()["hooks"] == []


def test_hook_created_disabled(api_client, script):
    body = {"name": "n", "event_name": "batch_complete", "script_path": script, "enabled": False}
    assert api_client.post(f"{API}/hooks", json=body).get_json()["enabled"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_name": "subtitle_downloaded", "script_path": "notify.sh"}, "name"),
        ({"name": "n", "event_name": "no_such_event", "script_path": "notify.sh"}, "event_name"),
        ({"name": "n", "event_name": "subtitle_downloaded", "script_path": "/bin/sh"}, "script_path"),
        ({"name": "n", "event_name": "subtitle_downloaded", "script_path": "../x.sh"}, "script_path"),
        ({"name": "n", "event_name": "subtitle_downloaded", "script_path": "missing.sh"}, "script_path"),
        ({"name": "n", "event_name": "batch_complete", "script_path": "~nosuchuser9/x.sh"}, "script_path"),
        (
            {
                "name": "n",
                "event_name": "subtitle_downloaded",
                "script_path": "notify.sh",
                "timeout_seconds": 0,
            },
            "timeout_seconds",
        ),
        (
            {
                "name": "n",
                "event_name": "subtitle_downloaded",
                "script_path": "notify.sh",
                "timeout_seconds": "5",
            },
            "timeout_seconds",
        ),
        ({"name": "n\x07", "event_name": "subtitle_downloaded", "script_path": "notify.sh"}, "name"),
        ({"name": "n", "event_name": "subtitle_downloaded", "script_path": "notify.sh", "x": 1}, "x"),
    ],
)
def test_hook_create_refusals(api_client, script, body, field):
    detail = error_of(api_client.post(f"{API}/hooks", json=body), 422)
    assert field in str(detail)
    assert api_client.get(f"{API}/hooks").get_json()["hooks"] == []


def test_hook_update_refusals_and_missing_ids(api_client, script):
    hook = api_client.post(
        f"{API}/hooks", json={"name": "n", "event_name": "batch_complete", "script_path": script}
    ).get_json()
    assert "script_path" in str(
        error_of(api_client.put(f"{API}/hooks/{hook['id']}", json={"script_path": "/etc/passwd"}), 422)
    )
    maybe = api_client.put(f"{API}/hooks/{hook['id']}", json={"enabled": "maybe"})
    assert "enabled" in str(error_of(maybe, 422))
    assert api_client.get(f"{API}/hooks/{hook['id']}").get_json()["script_path"] == script
    for method in ("get", "put", "delete"):
        kwargs = {"json": {"name": "x"}} if method == "put" else {}
        assert error_of(getattr(api_client, method)(f"{API}/hooks/999", **kwargs), 404)
    assert error_of(api_client.get(f"{API}/hooks/{2**70}"), 404)
    assert error_of(api_client.delete(f"{API}/hooks/0"), 404)  # found by the fuzz test: was a 422
    assert error_of(api_client.post(f"{API}/hooks/999/test"), 404)


def test_hook_test_runs_the_script_and_logs_it(api_client, script):
    hook = api_client.post(
        f"{API}/hooks", json={"name": "n", "event_name": "subtitle_downloaded", "script_path": script}
    ).get_json()
    result = api_client.post(f"{API}/hooks/{hook['id']}/test")
    assert result.status_code == 200
    body = result.get_json()
    assert body["success"] is True and body["exit_code"] == 0 and body["kind"] == "script"
    assert "got" in body["stdout"]

    logs = api_client.get(f"{API}/hooks/logs?hook_id={hook['id']}&include_total=true").get_json()
    assert logs["total"] == 1 and logs["logs"][0]["hook_id"] == hook["id"]
    assert logs["logs"][0]["success"] is True


# ---- logs ------------------------------------------------------------------------------


@pytest.fixture
def logged(sublarr_app):
    from sublarr.core.db.hooks import log_hook_execution

    for n in range(5):
        log_hook_execution(
            hook_id=1, event_name="subtitle_downloaded", hook_type="script", success=n % 2 == 0, exit_code=n
        )
    for _ in range(3):
        log_hook_execution(
            webhook_id=7, event_name="batch_complete", hook_type="webhook", success=True, status_code=200
        )


def test_logs_filter_and_page(api_client, logged):
    everything = api_client.get(f"{API}/hooks/logs?include_total=true").get_json()
    assert everything["total"] == 8 and len(everything["logs"]) == 8 and everything["next_cursor"] is None
    assert api_client.get(f"{API}/hooks/logs").get_json()["total"] is None  # counted on request only
    first = api_client.get(f"{API}/hooks/logs?hook_id=1&limit=2&include_total=1").get_json()
    assert (
        first["total"] == 5
        and first["limit"] == 2
        and set(first) == {"logs", "next_cursor", "total", "limit"}
    )
    assert [log["exit_code"] for log in first["logs"]] == [4, 3]  # newest first
    page = api_client.get(f"{API}/hooks/logs?hook_id=1&limit=2&cursor={first['next_cursor']}").get_json()
    assert [log["exit_code"] for log in page["logs"]] == [2, 1]
    # offset (deprecated) still pages
    offset_page = api_client.get(f"{API}/hooks/logs?hook_id=1&limit=2&offset=1").get_json()
    assert [log["exit_code"] for log in offset_page["logs"]] == [3, 2]
    assert api_client.get(f"{API}/hooks/logs?webhook_id=7&include_total=true").get_json()["total"] == 3


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=100000",
        "offset=-1",
        "hook_id=0",
        "hook_id=abc",
        "success=maybe",
        "cursor=",
        "cursor=abc",
    ],
)
def test_logs_refuse_bad_queries(api_client, query):
    assert error_of(api_client.get(f"{API}/hooks/logs?{query}"), 422)


def test_clear_logs(api_client, logged):
    assert api_client.delete(f"{API}/hooks/logs?webhook_id=7").get_json() == {"deleted": 3}
    assert api_client.get(f"{API}/hooks/logs?include_total=true").get_json()["total"] == 5
    assert api_client.delete(f"{API}/hooks/logs").get_json() == {"deleted": 5}
    assert error_of(api_client.delete(f"{API}/hooks/logs?hook_id=x"), 422)


# ---- webhooks --------------------------------------------------------------------------


def test_webhook_crud_with_masked_secret(api_client):
    secret = generate_secret()
    created = api_client.post(
        f"{API}/webhooks",
        json={
            "name": "n8n",
            "event_name": "*",
            "url": "http://127.0.0.1:9/hook",
            "secret": secret,
            "headers": {"X-Team": "subs"},
        },
    )
    assert created.status_code == 201
    webhook = created.get_json()
    assert webhook["secret"] == mask_secret(secret) != secret
    assert webhook["headers"] == {"X-Team": "****"}
    assert secret not in api_client.get(f"{API}/webhooks").get_data(as_text=True)
    assert api_client.get(f"{API}/webhooks/{webhook['id']}").get_json() == webhook

    from sublarr.core.db.hooks import get_webhook_config

    # Sending back what GET gave keeps the stored secret and header values.
    back = {k: webhook[k] for k in ("name", "event_name", "url", "secret", "headers")}
    updated = api_client.put(f"{API}/webhooks/{webhook['id']}", json={**back, "name": "renamed"})
    assert updated.status_code == 200 and updated.get_json()["name"] == "renamed"
    assert get_webhook_config(webhook["id"])["secret"] == secret

    # A mask that is not this secret's is a conflict; nothing changes.
    detail = error_of(
        api_client.put(f"{API}/webhooks/{webhook['id']}", json={"secret": "whsec_********abcd", "name": "x"}),
        409,
    )
    assert "mask" in detail
    assert get_webhook_config(webhook["id"])["name"] == "renamed"

    # A new full secret replaces it; "" makes a new one.
    other = generate_secret()
    api_client.put(f"{API}/webhooks/{webhook['id']}", json={"secret": other})
    assert get_webhook_config(webhook["id"])["secret"] == other
    api_client.put(f"{API}/webhooks/{webhook['id']}", json={"secret": ""})
    rotated = get_webhook_config(webhook["id"])["secret"]
    assert rotated.startswith("whsec_") and rotated not in (secret, other)

    assert api_client.delete(f"{API}/webhooks/{webhook['id']}").status_code == 204
    assert error_of(api_client.get(f"{API}/webhooks/{webhook['id']}"), 404)


def test_webhook_without_secret_gets_one_generated(api_client):
    from sublarr.core.db.hooks import get_webhook_config

    body = api_client.post(
        f"{API}/webhooks",
        json={"name": "w", "event_name": "batch_complete", "url": "https://127.0.0.1:9/h", "enabled": False},
    ).get_json()
    assert body["enabled"] is False and body["secret"].startswith("whsec_********")
    assert get_webhook_config(body["id"])["secret"].startswith("whsec_")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "w", "event_name": "*", "url": "ftp://example.org"}, "url"),
        ({"name": "w", "event_name": "*", "url": "http://169.254.169.254/latest"}, "url"),
        ({"name": "w", "event_name": "nope", "url": "http://127.0.0.1:9/"}, "event_name"),
        ({"name": "w", "event_name": "*", "url": "http://example.org", "secret": "hunter2"}, "secret"),
        ({"name": "w", "event_name": "*", "url": "http://example.org", "retry_count": 11}, "retry_count"),
        ({"name": "w", "event_name": "*", "url": "http://example.org", "method": "GET"}, "method"),
        (
            {"name": "w", "event_name": "*", "url": "http://example.org", "headers": {"Bad Name": "x"}},
            "headers",
        ),
        ({"name": "", "event_name": "*", "url": "http://example.org"}, "name"),
    ],
)
def test_webhook_create_refusals(api_client, body, field):
    assert field in str(error_of(api_client.post(f"{API}/webhooks", json=body), 422))
    assert api_client.get(f"{API}/webhooks").get_json()["webhooks"] == []


def test_webhook_missing_ids(api_client):
    for method in ("get", "put", "delete"):
        kwargs = {"json": {"name": "x"}} if method == "put" else {}
        assert error_of(getattr(api_client, method)(f"{API}/webhooks/41", **kwargs), 404)
    assert error_of(api_client.post(f"{API}/webhooks/41/test"), 404)
    assert error_of(api_client.get(f"{API}/webhooks/0"), 404)


def test_webhook_test_delivers_a_signed_sample(api_client, webhook_receiver):
    secret = generate_secret()
    webhook_receiver.secret = secret
    webhook = api_client.post(
        f"{API}/webhooks",
        json={
            "name": "r",
            "event_name": "subtitle_downloaded",
            "url": webhook_receiver.url,
            "secret": secret,
        },
    ).get_json()
    body = api_client.post(f"{API}/webhooks/{webhook['id']}/test").get_json()
    assert body["success"] is True and body["status_code"] == 200
    (request,) = webhook_receiver.wait_for(1)
    assert request.verified is True


# ---- scoring ---------------------------------------------------------------------------


def test_weights_view_put_and_reset(api_client):
    view = api_client.get(f"{API}/scoring/weights").get_json()
    assert view["effective"]["episode"]["hash"] == view["defaults"]["episode"]["hash"] == 359
    assert view["stored"] == {"episode": {}, "movie": {}}

    after = api_client.put(f"{API}/scoring/weights", json={"episode": {"hash": 400}, "movie": {"title": 70}})
    assert after.status_code == 200
    body = after.get_json()
    assert body["effective"]["episode"]["hash"] == 400 and body["stored"]["movie"] == {"title": 70}
    assert body["defaults"]["episode"]["hash"] == 359

    reset = api_client.delete(f"{API}/scoring/weights?score_type=movie").get_json()
    assert reset["stored"] == {"episode": {"hash": 400}, "movie": {}}
    assert api_client.delete(f"{API}/scoring/weights").get_json()["effective"]["episode"]["hash"] == 359


@pytest.mark.parametrize(
    "body",
    [
        {"episode": {"hash": 5000}},
        {"episode": {"hash": "400"}},
        {"episode": {"hash": 400}, "movie": {"Not A Key": 1}},
        {"series": {"hash": 1}},
    ],
)
def test_weights_refusals_change_nothing(api_client, body):
    assert error_of(api_client.put(f"{API}/scoring/weights", json=body), 422)
    assert api_client.get(f"{API}/scoring/weights").get_json()["stored"] == {"episode": {}, "movie": {}}


def test_weights_reset_refuses_unknown_type(api_client):
    assert error_of(api_client.delete(f"{API}/scoring/weights?score_type=anime"), 422)


def test_modifiers(api_client):
    assert api_client.get(f"{API}/scoring/modifiers").get_json() == {"modifiers": {}}
    body = api_client.put(
        f"{API}/scoring/modifiers", json={"modifiers": {"opensubtitles": -20, "addic7ed": 15}}
    )
    assert body.get_json() == {"modifiers": {"addic7ed": 15, "opensubtitles": -20}}
    bad_name = api_client.put(f"{API}/scoring/modifiers", json={"modifiers": {"ok": 1, "bad name!": 1}})
    assert error_of(bad_name, 422)
    assert error_of(api_client.put(f"{API}/scoring/modifiers", json={"modifiers": {"ok": 1001}}), 422)
    assert "ok" not in api_client.get(f"{API}/scoring/modifiers").get_json()["modifiers"]
    assert api_client.delete(f"{API}/scoring/modifiers/addic7ed").status_code == 204
    assert error_of(api_client.delete(f"{API}/scoring/modifiers/addic7ed"), 404)
    assert api_client.get(f"{API}/scoring/modifiers").get_json() == {"modifiers": {"opensubtitles": -20}}


def test_explain_uses_stored_weights_and_modifiers(api_client):
    api_client.put(f"{API}/scoring/weights", json={"episode": {"hash": 400}})
    api_client.put(f"{API}/scoring/modifiers", json={"modifiers": {"opensubtitles": -20}})
    body = api_client.post(
        f"{API}/scoring/explain",
        json={
            "query": {"series_title": "Dark", "season": 1, "episode": 1},
            "result": {
                "provider_name": "opensubtitles",
                "subtitle_id": "1",
                "language": "de",
                "format": "ass",
                "matches": ["hash", "series"],
            },
        },
    ).get_json()
    terms = {t["term"]: t["points"] for t in body["terms"]}
    assert terms == {"hash": 400, "series": 180, "format_bonus": 50, "provider:opensubtitles": -20}
    assert body["total"] == 610 and body["score_type"] == "episode"


@pytest.mark.parametrize(
    "body",
    [
        {"query": {}},
        {"query": {}, "result": {"provider_name": ""}},
        {"query": {"season": "one"}, "result": {"provider_name": "x"}},
        {"query": {}, "result": {"provider_name": "x", "matches": "hash"}},
    ],
)
def test_explain_refusals(api_client, body):
    assert error_of(api_client.post(f"{API}/scoring/explain", json=body), 422)


def test_export_and_import_round_trip(api_client):
    api_client.put(f"{API}/scoring/weights", json={"episode": {"hash": 420}})
    api_client.put(f"{API}/scoring/modifiers", json={"modifiers": {"podnapisi": 5}})
    preset = api_client.get(f"{API}/scoring/export").get_json()
    assert preset["format"] == "sublarr-scoring-preset"
    assert preset["weights"]["episode"] == {"hash": 420} and preset["provider_modifiers"] == {"podnapisi": 5}

    api_client.delete(f"{API}/scoring/weights")
    api_client.delete(f"{API}/scoring/modifiers/podnapisi")
    summary = api_client.post(f"{API}/scoring/import", json=preset).get_json()
    assert summary == {"weights": {"episode": 1, "movie": 0}, "provider_modifiers": 1}
    assert api_client.get(f"{API}/scoring/weights").get_json()["effective"]["episode"]["hash"] == 420

    bad = {**preset, "weights": {"episode": {"hash": 99999}}}
    assert "weights" in str(error_of(api_client.post(f"{API}/scoring/import", json=bad), 422))
    assert error_of(api_client.post(f"{API}/scoring/import", json={"format": "x"}), 422)
    assert api_client.get(f"{API}/scoring/weights").get_json()["stored"]["episode"] == {"hash": 420}


# ---- plugins, health, OpenAPI ----------------------------------------------------------


def test_plugins_lists_builtins(api_client):
    plugins = {p["name"]: p for p in api_client.get(f"{API}/plugins").get_json()["plugins"]}
    assert plugins["socketio_bridge"]["builtin"] is True
    assert plugins["socketio_bridge"]["status"] == "loaded"
    assert "on_event" in plugins["webhooks"]["hooks"]


def test_health_is_open_and_checks_the_database(sublarr_app, monkeypatch):
    client = sublarr_app.test_client()
    body = client.get(f"{API}/health").get_json()
    assert body == {"status": "ok", "checks": {"database": "ok"}}

    import sublarr.core.web.health_api as health_api

    def broken() -> str:
        raise OSError("disk gone")

    monkeypatch.setattr(health_api, "_database", broken)
    response = client.get(f"{API}/health")
    assert response.status_code == 503
    assert response.get_json() == {"status": "degraded", "checks": {"database": "failing"}}


def test_openapi_document_covers_every_route(api_client, sublarr_app):
    spec = api_client.get(f"{API}/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["components"]["securitySchemes"]) == {"ApiKeyHeader", "ApiKeyQuery"}
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    routed = set()
    for rule in sublarr_app.url_map.iter_rules():
        if not rule.rule.startswith(API) or rule.rule == f"{API}/openapi.json":
            continue
        path = rule.rule.replace("<int:", "{").replace("<string:", "{").replace(">", "}")
        routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == documented
    assert len(routed) >= 37  # no route lost (more come with new features)
    emit = spec["paths"]["/api/v1/events/{name}/emit"]["post"]
    assert {"202", "400", "401", "404", "422"} <= set(emit["responses"])
    assert spec["paths"]["/api/v1/health"]["get"]["security"] == []
    hook_create = spec["components"]["schemas"]["HookCreateSchema"]
    assert hook_create["properties"]["timeout_seconds"]["maximum"] == 3600
