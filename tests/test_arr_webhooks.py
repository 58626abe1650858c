"""Incoming Sonarr/Radarr webhooks: payloads shaped like the ones those apps send."""

from __future__ import annotations

import copy
import json

import pytest

SONARR = "/api/v1/webhook/sonarr"
RADARR = "/api/v1/webhook/radarr"

SONARR_DOWNLOAD = {
    "series": {
        "id": 1,
        "title": "Dark",
        "titleSlug": "dark",
        "path": "/tv/Dark",
        "tvdbId": 334824,
        "tvMazeId": 17861,
        "imdbId": "tt5753856",
        "type": "standard",
        "year": 2017,
        "genres": ["Drama", "Mystery"],
        "images": [],
        "tags": [],
    },
    "episodes": [
        {
            "id": 12,
            "episodeNumber": 1,
            "seasonNumber": 1,
            "title": "Secrets",
            "airDate": "2017-12-01",
            "airDateUtc": "2017-12-01T08:00:00Z",
            "seriesId": 1,
            "tvdbId": 6373506,
        },
    ],
    "episodeFile": {
        "id": 40,
        "relativePath": "Season 1/Dark - S01E01 - Secrets.mkv",
        "path": "/tv/Dark/Season 1/Dark - S01E01 - Secrets.mkv",
        "quality": "WEBDL-1080p",
        "qualityVersion": 1,
        "releaseGroup": "NTb",
        "sceneName": "Dark.S01E01.1080p.WEB.x264-NTb",
        "size": 1824581632,
        "dateAdded": "2024-03-01T10:00:00Z",
        "mediaInfo": {
            "audioChannels": 5.1,
            "audioCodec": "EAC3",
            "audioLanguages": ["ger"],
            "height": 1080,
            "width": 1920,
            "subtitles": ["ger", "eng"],
            "videoCodec": "h264",
        },
    },
    "isUpgrade": False,
    "downloadClient": "qBittorrent",
    "downloadClientType": "qBittorrent",
    "downloadId": "A1B2C3",
    "eventType": "Download",
    "instanceName": "Sonarr",
    "applicationUrl": "",
}

SONARR_TEST = {
    "series": {
        "id": 1,
        "title": "Test Title",
        "path": "C:\\testpath",
        "tvdbId": 1234,
        "tvMazeId": 0,
        "imdbId": "",
        "type": "standard",
        "year": 0,
        "genres": [],
        "images": [],
        "tags": [],
    },
    "episodes": [
        {"id": 123, "episodeNumber": 1, "seasonNumber": 1, "title": "Test title", "seriesId": 0, "tvdbId": 0}
    ],
    "eventType": "Test",
    "instanceName": "Sonarr",
    "applicationUrl": "",
}

RADARR_DOWNLOAD = {
    "movie": {
        "id": 1,
        "title": "Heat",
        "year": 1995,
        "releaseDate": "1996-06-04",
        "folderPath": "/movies/Heat (1995)",
        "tmdbId": 949,
        "imdbId": "tt0113277",
        "overview": "Obsessive master thief Neil McCauley...",
        "genres": ["Crime"],
        "images": [],
        "tags": [],
    },
    "remoteMovie": {"tmdbId": 949, "imdbId": "tt0113277", "title": "Heat", "year": 1995},
    "movieFile": {
        "id": 3,
        "relativePath": "Heat (1995).mkv",
        "path": "/movies/Heat (1995)/Heat (1995).mkv",
        "quality": "Bluray-1080p",
        "qualityVersion": 1,
        "releaseGroup": "AMIABLE",
        "sceneName": "Heat.1995.1080p.BluRay.x264-AMIABLE",
        "indexerFlags": "0",
        "size": 13958643712,
        "dateAdded": "2024-03-01T10:00:00Z",
    },
    "isUpgrade": False,
    "downloadClient": "SABnzbd",
    "downloadId": "SABnzbd_nzo_1",
    "eventType": "Download",
    "instanceName": "Radarr",
    "applicationUrl": "",
}

RADARR_TEST = {
    "movie": {
        "id": 1,
        "title": "Test Title",
        "year": 1970,
        "releaseDate": "1970-01-01",
        "folderPath": "C:\\testpath",
        "tmdbId": 0,
        "tags": [],
    },
    "remoteMovie": {"tmdbId": 1234, "imdbId": "", "title": "Test title", "year": 1970},
    "release": {"quality": "Unknown", "qualityVersion": 1, "releaseTitle": "Test.title.1970", "size": 0},
    "eventType": "Test",
    "instanceName": "Radarr",
    "applicationUrl": "",
}


def test_sonarr_download(api_client, event_recorder):
    response = api_client.post(SONARR, json=SONARR_DOWNLOAD)
    assert response.status_code == 200
    body = response.get_json()
    assert body["source"] == "sonarr" and body["event_type"] == "Download" and len(body["event_ids"]) == 1
    event = event_recorder.last("webhook_received")
    assert event.payload == {
        "source": "sonarr",
        "event_type": "Download",
        "media_type": "episode",
        "title": "Dark",
        "year": 2017,
        "season": 1,
        "episode": 1,
    }
    assert event.event_id == body["event_ids"][0]
    assert "/tv/" not in json.dumps(event.payload) and "NTb" not in json.dumps(event.payload)


def test_sonarr_grab_of_several_episodes_emits_one_event_each(api_client, event_recorder):
    grab = copy.deepcopy(SONARR_DOWNLOAD)
    grab["eventType"] = "Grab"
    del grab["episodeFile"]
    grab["release"] = {"quality": "WEBDL-1080p", "releaseTitle": "Dark.S01E01-E02", "indexer": "x", "size": 1}
    grab["episodes"].append({"id": 13, "episodeNumber": 2, "seasonNumber": 1, "title": "Lies"})
    grab["episodes"].append(dict(grab["episodes"][0]))  # a repeat is emitted once
    assert len(api_client.post(SONARR, json=grab).get_json()["event_ids"]) == 2
    assert [(e.payload["season"], e.payload["episode"]) for e in event_recorder.of("webhook_received")] == [
        (1, 1),
        (1, 2),
    ]


def test_sonarr_rename_without_episodes(api_client, event_recorder):
    rename = {
        "series": SONARR_DOWNLOAD["series"],
        "renamedEpisodeFiles": [],
        "eventType": "Rename",
        "instanceName": "Sonarr",
    }
    assert api_client.post(SONARR, json=rename).status_code == 200
    event_recorder.assert_emitted("webhook_received", event_type="Rename", title="Dark", season=None)


def test_health_event_without_media(api_client, event_recorder):
    health = {
        "level": "warning",
        "message": "Indexers unavailable",
        "type": "IndexerStatusCheck",
        "eventType": "Health",
        "instanceName": "Sonarr",
    }
    assert api_client.post(SONARR, json=health).status_code == 200
    event_recorder.assert_emitted("webhook_received", event_type="Health", title=None, media_type="episode")


@pytest.mark.parametrize(
    ("url", "payload", "source", "title"),
    [
        (SONARR, SONARR_TEST, "sonarr", "Test Title"),
        (RADARR, RADARR_TEST, "radarr", "Test Title"),
    ],
)
def test_test_events_answer_200_and_emit(
    api_client, event_recorder, socketio_client, url, payload, source, title
):
    assert api_client.post(url, json=payload).status_code == 200
    event = event_recorder.assert_emitted("webhook_received", source=source, event_type="Test", title=title)
    assert "testpath" not in json.dumps(event.payload)
    assert socketio_client.get_received()[-1]["args"][0]["source"] == source


def test_radarr_download(api_client, event_recorder):
    assert api_client.post(RADARR, json=RADARR_DOWNLOAD).status_code == 200
    assert event_recorder.last("webhook_received").payload == {
        "source": "radarr",
        "event_type": "Download",
        "media_type": "movie",
        "title": "Heat",
        "year": 1995,
        "season": None,
        "episode": None,
    }


def _without(payload: dict, *path: str) -> dict:
    out = copy.deepcopy(payload)
    target = out
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return out


@pytest.mark.parametrize(
    ("url", "body", "culprit"),
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
        (SONARR, {**SONARR_DOWNLOAD, "series": {**SONARR_DOWNLOAD["series"], "title": "/tv/Dark"}}, "title"),
        (RADARR, {**RADARR_DOWNLOAD, "movie": {**RADARR_DOWNLOAD["movie"], "year": "1995"}}, "year"),
        (RADARR, {**RADARR_DOWNLOAD, "movie": None}, "movie"),
        (RADARR, ["Download"], "JSON object"),
    ],
)
def test_malformed_bodies_get_400_with_the_reason(api_client, event_recorder, url, body, culprit):
    response = api_client.post(url, json=body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    assert culprit in json.dumps(response.get_json()["detail"])
    event_recorder.assert_not_emitted("webhook_received")


def test_not_json_at_all(api_client):
    response = api_client.post(
        SONARR, data="eventType=Test", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400


def test_the_key_as_the_arr_apps_send_it(sublarr_app, api_key, event_recorder):
    client = sublarr_app.test_client()
    assert client.post(SONARR, json=SONARR_TEST).status_code == 401
    assert client.post(f"{SONARR}?apikey={api_key}", json=SONARR_TEST).status_code == 200
    assert client.post(RADARR, json=RADARR_TEST, headers={"X-Api-Key": api_key}).status_code == 200
    assert len(event_recorder.of("webhook_received")) == 2
