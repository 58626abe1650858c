"""Per-target filters: checked when saved (422 for unknown keys); a failing event is not queued but logged."""

from __future__ import annotations

import time

import pytest

from sublarr.core import emit_event
from sublarr.core.delivery import add_webhook, get_webhook, update_webhook
from sublarr.core.delivery import store as deliveries
from sublarr.core.delivery.filters import check_filters, compile_filters
from sublarr.core.errors import ValidationError

from conftest import wait_logs

API = "/api/v1"
EVENT = "subtitle_downloaded"
FILTERS = [
    {"field": "media_type", "op": "==", "value": "episode"},
    {"field": "language", "op": "in", "value": ["de", "en"]},
    {"field": "score", "op": ">=", "value": 300},
]


def _compiled(filters, event=EVENT):
    return compile_filters(check_filters(filters, event))


@pytest.mark.parametrize(
    ("payload", "holds"),
    [
        ({"media_type": "episode", "language": "de", "score": 350}, True),
        ({"media_type": "episode", "language": "en", "score": 300}, True),
        ({"media_type": "movie", "language": "de", "score": 350}, False),
        ({"media_type": "episode", "language": "fr", "score": 350}, False),
        ({"media_type": "episode", "language": "de", "score": 299}, False),
        ({"media_type": "episode", "language": "de", "score": None}, False),  # None >= 300: no
        ({"media_type": "episode", "language": "de", "score": "350"}, False),  # text vs number: no
        ({"media_type": "episode", "language": "de"}, False),  # a missing key: no
        ({"media_type": "episode", "language": ["de"], "score": 350}, False),  # a list is not in
    ],
)
def test_conditions(payload, holds):
    test = _compiled(FILTERS)
    assert test.matches(payload) is holds
    assert (test.reason(payload) is None) is holds


def test_the_reason_names_the_failing_condition_and_value():
    test = _compiled(FILTERS)
    assert test.reason({"media_type": "episode", "language": "fr", "score": 350}) == (
        "filtered: language in ['de', 'en'] does not hold (language='fr')"
    )


def test_other_operators_and_types():
    assert _compiled([{"field": "title", "op": "contains", "value": "Dark"}]).matches({"title": "Dark S1"})
    assert not _compiled([{"field": "title", "op": "contains", "value": "x"}]).matches({"title": 5})
    assert _compiled([{"field": "language", "op": "not in", "value": ["fr"]}]).matches({"language": "de"})
    assert _compiled([{"field": "language", "op": "!=", "value": "fr"}]).matches({"language": "de"})
    assert _compiled([{"field": "hearing_impaired", "op": "==", "value": True}]).matches(
        {"hearing_impaired": True}
    )
    # JSON tells true from 1: true is not in [1], 1 is not in [true]
    assert not _compiled([{"field": "season", "op": "in", "value": [1]}], "*").matches({"season": True})
    assert not _compiled([{"field": "season", "op": "in", "value": [True]}], "*").matches({"season": 1})
    assert compile_filters([]) is None


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ([{"field": "langauge", "op": "==", "value": "de"}], "'langauge' is not a payload key"),
        ([{"field": "batch_id", "op": "==", "value": "x"}], "'batch_id' is not a payload key"),
        ([{"field": "language", "op": "=~", "value": "de"}], "unknown op"),
        ([{"field": "language", "op": "in", "value": "de"}], "needs a list"),
        ([{"field": "language", "op": "==", "value": {"a": 1}}], "the value must be"),
        ([{"field": "language", "op": "=="}], "field, op and value"),
        ({"field": "language"}, "must be a list"),
        ([{"field": "score", "op": ">", "value": 1}] * 21, "at most 20"),
    ],
)
def test_bad_filters_are_refused(filters, message):
    with pytest.raises(ValidationError, match=message) as refused:
        check_filters(filters, EVENT)
    assert refused.value.field == "filters"


def test_a_wildcard_target_may_filter_on_any_events_key():
    assert check_filters([{"field": "batch_id", "op": "==", "value": "x"}], "*")
    with pytest.raises(ValidationError):
        check_filters([{"field": "nope", "op": "==", "value": "x"}], "*")


@pytest.fixture
def env(delivery_env, sublarr_db):
    return sublarr_db


def test_only_matching_events_are_queued_the_others_are_logged_as_filtered(
    env, webhook_receiver, delivery_pool
):
    hook = add_webhook("de", EVENT, webhook_receiver.url_for("/de"), filters=FILTERS)
    other = add_webhook("all", EVENT, webhook_receiver.url_for("/all"))
    assert get_webhook(hook["id"])["filters"] == FILTERS
    delivery_pool()
    emit_event(EVENT, {"media_type": "episode", "language": "de", "score": 350, "title": "yes"})
    emit_event(EVENT, {"media_type": "episode", "language": "fr", "score": 350, "title": "no"})
    requests = webhook_receiver.wait_for(3)
    time.sleep(0.3)
    by_path = sorted((r.path, r.json["data"]["title"]) for r in webhook_receiver.requests)
    assert by_path == [("/all", "no"), ("/all", "yes"), ("/de", "yes")]
    assert len(requests) == 3
    logs = wait_logs(2, webhook_id=hook["id"])
    [filtered] = [log for log in logs if log["error"].startswith("filtered:")]
    assert filtered["success"] and filtered["delivery_id"] is None and filtered["hook_type"] == "webhook"
    assert filtered["error"] == "filtered: language in ['de', 'en'] does not hold (language='fr')"
    assert deliveries.count_deliveries() == {"delivered": 3}
    assert get_webhook(hook["id"])["trigger_count"] == 1  # a filtered event is not a trigger
    wait_logs(2, webhook_id=other["id"])  # its attempts are written just after their sends
    assert get_webhook(other["id"])["trigger_count"] == 2


def test_changing_filters_takes_effect_for_the_next_event(env, webhook_receiver, delivery_pool):
    hook = add_webhook(
        "x", EVENT, webhook_receiver.url, filters=[{"field": "language", "op": "==", "value": "de"}]
    )
    delivery_pool()
    emit_event(EVENT, {"language": "en"})
    update_webhook(hook["id"], filters=[])
    emit_event(EVENT, {"language": "en"})
    [request] = webhook_receiver.wait_for(1)
    assert request.json["data"]["language"] == "en"


def test_api_refuses_filters_on_unknown_keys_with_422(api_client):
    body = {"name": "f", "event_name": EVENT, "url": "http://127.0.0.1:9/hook"}
    response = api_client.post(
        f"{API}/webhooks", json={**body, "filters": [{"field": "titel", "op": "==", "value": "x"}]}
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "'titel' is not a payload key" in str(response.get_json()["detail"])
    assert api_client.get(f"{API}/webhooks").get_json()["webhooks"] == []
    created = api_client.post(f"{API}/webhooks", json={**body, "filters": FILTERS})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["filters"] == FILTERS
    webhook_id = created.get_json()["id"]
    bad = api_client.put(
        f"{API}/webhooks/{webhook_id}", json={"filters": [{"field": "x", "op": "==", "value": 1}]}
    )
    assert bad.status_code == 422
    assert api_client.get(f"{API}/webhooks/{webhook_id}").get_json()["filters"] == FILTERS


def test_api_template_refusal_names_the_line(api_client):
    body = {"name": "t", "event_name": EVENT, "url": "http://127.0.0.1:9/hook"}
    response = api_client.post(f"{API}/webhooks", json={**body, "body_template": "ok\n{{ ''.__class__ }}"})
    assert response.status_code == 422
    assert "line 2" in str(response.get_json()["detail"])
    response = api_client.post(
        f"{API}/webhooks", json={**body, "preset": "ntfy", "preset_options": {"topic": "t"}}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert '"topic": "t"' in response.get_json()["body_template"]
