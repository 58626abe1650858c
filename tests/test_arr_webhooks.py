"""Incoming Sonarr/Radarr webhooks, with bodies written from Sonarr's and Radarr's payload
classes (src/NzbDrone.Core/Notifications/Webhook/*.cs): tests/fixtures/arr/."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

SONARR = "/api/v1/webhook/sonarr"
RADARR = "/api/v1/webhook/radarr"
FIXTURES = Path(__file__).parent / "fixtures" / "arr"


def body(name: str) -> dict:
    """A fixture body (a fresh copy each time)."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def sent(event) -> dict:
    """The keys of a webhook_received payload that hold something."""
    return {k: v for k, v in event.payload.items() if v is not None}


def test_sonarr_download_keeps_what_users_need_and_no_absolute_path(api_client, event_recorder):
    response = api_client.post(SONARR, json=body("sonarr_download"))
    assert response.status_code == 200
    answer = response.get_json()
    assert (
        answer["source"] == "sonarr" and answer["event_type"] == "Download" and len(answer["event_ids"]) == 1
    )
    event = event_recorder.last("webhook_received")
    assert sent(event) == {
        "source": "sonarr",
        "event_type": "Download",
        "media_type": "episode",
        "title": "Dark",
        "year": 2017,
        "season": 1,
        "episode": 1,
        "episode_id": 12,
        "instance_name": "Sonarr",
        "series_id": 1,
        "tvdb_id": 334824,
        "tmdb_id": 70523,
        "imdb_id": "tt5753856",
        "is_upgrade": False,
        "quality": "WEBDL-1080p",
        "release_group": "NTb",
        "languages": ["German"],
        "relative_path": "Season 1/Dark - S01E01 - Secrets WEBDL-1080p.mkv",
    }
    assert event.event_id == answer["event_ids"][0]
    text = json.dumps(event.payload)
    assert "/tv/" not in text and "/downloads/" not in text


def test_an_upgrade_says_so(api_client, event_recorder):
    assert api_client.post(SONARR, json=body("sonarr_download_upgrade")).status_code == 200
    event = event_recorder.last("webhook_received")
    assert event.payload["is_upgrade"] is True and event.payload["episode"] == 2
    assert "recycle" not in json.dumps(event.payload)


def test_import_complete_is_told_from_the_per_file_download(api_client, event_recorder):
    """Both triggers on: each file comes once as Download, the download once as ImportComplete."""
    assert api_client.post(SONARR, json=body("sonarr_download")).status_code == 200
    answer = api_client.post(SONARR, json=body("sonarr_import_complete")).get_json()
    assert answer["event_type"] == "ImportComplete" and len(answer["event_ids"]) == 2
    events = event_recorder.of("webhook_received")
    assert [(e.payload["event_type"], e.payload["episode"]) for e in events] == [
        ("Download", 1),
        ("ImportComplete", 1),
        ("ImportComplete", 2),
    ]
    summary = events[-1].payload
    assert summary["file_count"] == 2 and summary["relative_path"] is None  # two files: no one path
    assert summary["release_group"] == "NTb" and summary["quality"] == "WEBDL-1080p"
    assert "/downloads" not in json.dumps(summary) and "/tv/Dark" not in json.dumps(summary)


def test_sonarr_grab_of_several_episodes_emits_one_event_each(api_client, event_recorder):
    grab = body("sonarr_grab")
    grab["episodes"].append(dict(grab["episodes"][0]))  # a repeat is emitted once
    assert len(api_client.post(SONARR, json=grab).get_json()["event_ids"]) == 2
    events = event_recorder.of("webhook_received")
    assert [(e.payload["season"], e.payload["episode"], e.payload["episode_id"]) for e in events] == [
        (1, 1, 12),
        (1, 2, 13),
    ]
    assert events[0].payload["release_group"] == "NTb" and events[0].payload["languages"] == ["German"]
    assert events[0].payload["is_upgrade"] is None


def test_a_season_pack_of_more_than_1000_episodes_is_accepted(api_client, event_recorder):
    grab = body("sonarr_grab")
    template = grab["episodes"][0]
    grab["episodes"] = [
        {**template, "id": 1000 + n, "seasonNumber": 1, "episodeNumber": n} for n in range(1, 1201)
    ]
    response = api_client.post(SONARR, json=grab)
    assert response.status_code == 200
    assert len(response.get_json()["event_ids"]) == 1200
    assert event_recorder.last("webhook_received").payload["episode"] == 1200


def test_a_title_starting_with_a_slash_is_a_title(api_client, event_recorder):
    download = body("sonarr_download")
    download["series"]["title"] = "/Dev/Null"
    assert api_client.post(SONARR, json=download).status_code == 200
    assert event_recorder.last("webhook_received").payload["title"] == "/Dev/Null"


def test_episode_file_delete_keeps_the_reason(api_client, event_recorder):
    assert api_client.post(SONARR, json=body("sonarr_episode_file_delete")).status_code == 200
    event_recorder.assert_emitted(
        "webhook_received", event_type="EpisodeFileDelete", delete_reason="upgrade", episode=1
    )


def test_sonarr_rename_without_episodes(api_client, event_recorder):
    rename = {
        "series": body("sonarr_download")["series"],
        "renamedEpisodeFiles": [],
        "eventType": "Rename",
        "instanceName": "Sonarr",
        "applicationUrl": "",
    }
    assert api_client.post(SONARR, json=rename).status_code == 200
    event_recorder.assert_emitted("webhook_received", event_type="Rename", title="Dark", season=None)


def test_health_keeps_level_message_type_and_the_instance(api_client, event_recorder):
    assert api_client.post(SONARR, json=body("sonarr_health")).status_code == 200
    event = event_recorder.last("webhook_received")
    assert sent(event) == {
        "source": "sonarr",
        "event_type": "Health",
        "media_type": "episode",
        "instance_name": "Sonarr 4K",
        "health_level": "warning",
        "health_message": "Indexers unavailable due to failures: NZBgeek (Prowlarr)",
        "health_type": "IndexerStatusCheck",
    }
    restored = {**body("sonarr_health"), "eventType": "HealthRestored"}
    assert api_client.post(SONARR, json=restored).status_code == 200
    assert event_recorder.last("webhook_received").payload["health_type"] == "IndexerStatusCheck"


def test_a_health_message_that_is_a_path_is_left_out_not_refused(api_client, event_recorder):
    health = {**body("sonarr_health"), "message": "/data/tv is not writable"}
    assert api_client.post(SONARR, json=health).status_code == 200
    assert event_recorder.last("webhook_received").payload["health_message"] is None


def test_application_update_versions(api_client, event_recorder):
    assert api_client.post(SONARR, json=body("sonarr_application_update")).status_code == 200
    event_recorder.assert_emitted(
        "webhook_received",
        event_type="ApplicationUpdate",
        previous_version="4.0.14.2939",
        new_version="4.0.15.2941",
    )


@pytest.mark.parametrize(
    ("url", "fixture", "source", "title"),
    [
        (SONARR, "sonarr_test", "sonarr", "Test Title"),
        (RADARR, "radarr_test", "radarr", "Test Title"),
    ],
)
def test_test_events_answer_200_and_emit(
    api_client, event_recorder, socketio_client, url, fixture, source, title
):
    assert api_client.post(url, json=body(fixture)).status_code == 200
    event = event_recorder.assert_emitted("webhook_received", source=source, event_type="Test", title=title)
    assert "testpath" not in json.dumps(event.payload)
    assert socketio_client.get_received()[-1]["args"][0]["source"] == source


def test_radarr_download(api_client, event_recorder):
    assert api_client.post(RADARR, json=body("radarr_download")).status_code == 200
    event = event_recorder.last("webhook_received")
    assert sent(event) == {
        "source": "radarr",
        "event_type": "Download",
        "media_type": "movie",
        "title": "Heat",
        "year": 1995,
        "instance_name": "Radarr",
        "movie_id": 1,
        "tmdb_id": 949,
        "imdb_id": "tt0113277",
        "is_upgrade": True,
        "quality": "Bluray-1080p",
        "release_group": "AMIABLE",
        "languages": ["English"],
        "relative_path": "Heat (1995) Bluray-1080p.mkv",
    }
    assert "/movies" not in json.dumps(event.payload)


def test_radarr_grab_and_file_delete(api_client, event_recorder):
    assert api_client.post(RADARR, json=body("radarr_grab")).status_code == 200
    event_recorder.assert_emitted("webhook_received", event_type="Grab", release_group="AMIABLE", tmdb_id=949)
    assert api_client.post(RADARR, json=body("radarr_movie_file_delete")).status_code == 200
    event_recorder.assert_emitted("webhook_received", event_type="MovieFileDelete", delete_reason="manual")


def test_two_instances_are_told_apart(api_client, event_recorder):
    for name in ("Sonarr", "Sonarr Anime"):
        api_client.post(SONARR, json={**body("sonarr_download"), "instanceName": name})
    assert [e.payload["instance_name"] for e in event_recorder.of("webhook_received")] == [
        "Sonarr",
        "Sonarr Anime",
    ]


@pytest.mark.parametrize(("url", "fixture"), [(SONARR, "sonarr_download"), (RADARR, "radarr_download")])
def test_put_is_accepted_as_well_as_post(api_client, event_recorder, url, fixture):
    response = api_client.put(url, json=body(fixture))
    assert response.status_code == 200
    assert len(event_recorder.of("webhook_received")) == 1


def _without(payload: dict, *path: str) -> dict:
    out = copy.deepcopy(payload)
    target = out
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return out


SONARR_DOWNLOAD = body("sonarr_download")
RADARR_DOWNLOAD = body("radarr_download")


@pytest.mark.parametrize(
    ("url", "payload", "culprit"),
    [
        (SONARR, _without(SONARR_DOWNLOAD, "eventType"), "eventType"),
        (SONARR, {**SONARR_DOWNLOAD, "eventType": 7}, "eventType"),
        (SONARR, {**SONARR_DOWNLOAD, "series": "Dark"}, "series"),
        (SONARR, _without(SONARR_DOWNLOAD, "series", "title"), "title"),
        (
            SONARR,
            {**SONARR_DOWNLOAD, "episodes": [{"id": 1, "episodeNumber": "one", "seasonNumber": 1}]},
            "episodeNumber",
        ),
        (SONARR, {**SONARR_DOWNLOAD, "episodes": {"seasonNumber": 1}}, "episodes"),
        (SONARR, {**SONARR_DOWNLOAD, "isUpgrade": "yes"}, "isUpgrade"),
        (SONARR, {**SONARR_DOWNLOAD, "series": {**SONARR_DOWNLOAD["series"], "tvdbId": "334824"}}, "tvdbId"),
        (RADARR, {**RADARR_DOWNLOAD, "movie": {**RADARR_DOWNLOAD["movie"], "year": "1995"}}, "year"),
        (RADARR, {**RADARR_DOWNLOAD, "movie": None}, "movie"),
        (RADARR, ["Download"], "JSON object"),
    ],
)
def test_malformed_bodies_get_400_with_the_reason(api_client, event_recorder, url, payload, culprit):
    response = api_client.post(url, json=payload)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    assert culprit in json.dumps(response.get_json()["detail"])
    event_recorder.assert_not_emitted("webhook_received")


def test_not_json_at_all(api_client):
    response = api_client.post(
        SONARR, data="eventType=Test", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400


def _basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_the_key_as_the_arr_apps_send_it(sublarr_app, api_key, event_recorder):
    client = sublarr_app.test_client()
    assert client.post(SONARR, json=body("sonarr_test")).status_code == 401
    assert client.post(f"{SONARR}?apikey={api_key}", json=body("sonarr_test")).status_code == 200
    assert client.post(RADARR, json=body("radarr_test"), headers={"X-Api-Key": api_key}).status_code == 200
    # the webhook form's username/password fields: the key is the password, any username
    assert client.put(SONARR, json=body("sonarr_test"), headers=_basic("sonarr", api_key)).status_code == 200
    assert client.post(RADARR, json=body("radarr_test"), headers=_basic("", api_key)).status_code == 200
    assert len(event_recorder.of("webhook_received")) == 4


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic " + base64.b64encode(b"sonarr:wrong").decode(),
        "Basic " + base64.b64encode(b"only-a-user").decode(),
        "Basic !!!not-base64!!!",
        "Bearer whatever",
        "Basic " + base64.b64encode(b"sonarr:").decode(),
    ],
)
def test_wrong_basic_credentials_get_401(sublarr_app, event_recorder, authorization, caplog):
    client = sublarr_app.test_client()
    headers = {"Authorization": authorization} if authorization else {}
    assert client.post(SONARR, json=body("sonarr_test"), headers=headers).status_code == 401
    event_recorder.assert_not_emitted("webhook_received")


def test_the_basic_password_is_never_logged(sublarr_app, api_key, caplog):
    client = sublarr_app.test_client()
    with caplog.at_level("DEBUG"):
        client.post(SONARR, json=body("sonarr_test"), headers=_basic("sonarr", api_key))
        client.post(SONARR, json=body("sonarr_test"), headers=_basic("sonarr", api_key + "x"))
    assert api_key not in caplog.text
