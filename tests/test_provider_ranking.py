"""Provider re-ranking from history: the built-in provider_ranking plugin, with real SQLite and events."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sublarr.core import ValidationError, emit_event
from sublarr.core.cli.main import cli
from sublarr.core.scoring import (
    SubtitleResult,
    VideoQuery,
    compute_score,
    explain_score,
    invalidate_scoring_cache,
)
from sublarr.core.scoring.ranking import learned_modifier

EPISODE = VideoQuery(series_title="Show", season=1, episode=1)
BASE = 180 + 30 + 30  # series + season + episode
TERM = "plugin:provider_ranking"
API = "/api/v1/scoring"


@pytest.fixture
def ranking(plugin_manager, sublarr_db):
    from sublarr.plugins.provider_ranking import ranking

    ranking.forget()  # the built-in instance outlives plugin managers: start from nothing
    yield ranking
    ranking.forget()


def score(provider: str) -> int:
    invalidate_scoring_cache()  # learned modifiers are read once per cache period: start one
    return compute_score(
        SubtitleResult(provider, "1", "en", matches={"series", "season", "episode"}), EPISODE
    )


def downloaded(provider: str, episode: int = 1) -> None:
    emit_event(
        "subtitle_downloaded",
        {
            "provider_name": provider,
            "series_title": "Show",
            "season": 1,
            "episode": episode,
            "language": "en",
        },
    )


def failed(provider: str) -> None:
    emit_event("provider_failed", {"provider_name": provider, "error": "timeout"})


def upgraded(provider: str, episode: int = 1) -> None:
    emit_event(
        "upgrade_complete",
        {
            "provider_name": provider,
            "series_title": "Show",
            "season": 1,
            "episode": episode,
            "language": "en",
            "old_score": 200,
            "new_score": 300,
        },
    )


def enable(**settings: object) -> None:
    from sublarr.core.db.scoring import set_scoring_preferences

    set_scoring_preferences({"provider_ranking": {"enabled": True, **settings}})


def test_off_by_default_changes_nothing(ranking, plugin_manager):
    from sublarr.core.db.scoring import get_provider_ranking
    from sublarr.core.scoring.compute import _current_state

    for _ in range(30):
        failed("flaky")
        downloaded("good")
    assert ranking.state()["providers"] == {} and get_provider_ranking() == {}
    assert ranking.state()["enabled"] is False
    assert score("flaky") == score("good") == BASE
    assert not any(rule[1] == TERM for rule in _current_state().rules)


def test_modifiers_move_within_the_cap_only_after_the_minimum_sample(ranking):
    enable(cap=10, min_sample=4)
    for _ in range(3):
        failed("flaky")
        downloaded("good", episode=_)
    state = ranking.state()["providers"]
    assert state["flaky"]["failures"] == 3 and state["flaky"]["sampled"] is False
    assert state["flaky"]["modifier"] == 0 and score("flaky") == BASE  # under the sample: nothing
    failed("flaky")
    downloaded("good", episode=3)
    state = ranking.state()["providers"]
    assert state["flaky"]["modifier"] == -10 and state["good"]["modifier"] == 10  # capped both ways
    assert score("flaky") == BASE - 10 and score("good") == BASE + 10
    upgraded("other", episode=0)  # good's pick for episode 0 was replaced: upgraded once
    state = ranking.state()["providers"]
    assert state["good"]["upgraded"] == 1 and state["good"]["upgrade_rate"] == 0.25
    assert state["good"]["modifier"] == 5 == learned_modifier(4, 0, 1, 10, 4)
    assert "other" not in state  # an upgrade is not a download of its own
    upgraded("another", episode=0)  # replaces other's pick, not good's again
    assert ranking.state()["providers"]["good"]["upgraded"] == 1


def test_explain_shows_the_source_and_reset_clears_it(ranking, api_client):
    enable(cap=20, min_sample=2)
    downloaded("good", 1)
    downloaded("good", 2)
    invalidate_scoring_cache()
    explained = explain_score(SubtitleResult("good", "1", "en", matches={"series"}), EPISODE)
    assert {"term": TERM, "points": 20, "source": "provider_ranking"} in explained["terms"]
    assert explained["total"] == 180 + 20
    body = api_client.get(f"{API}/provider-ranking").get_json()
    assert body["enabled"] is True and body["cap"] == 20 and body["providers"]["good"]["downloads"] == 2
    downloaded("other", 1)
    r = api_client.delete(f"{API}/provider-ranking", query_string={"provider": "good"})
    assert r.status_code == 200 and r.get_json() == {"forgotten": 1}
    assert list(api_client.get(f"{API}/provider-ranking").get_json()["providers"]) == ["other"]
    assert score("good") == BASE
    assert api_client.delete(f"{API}/provider-ranking").get_json() == {"forgotten": 1}
    assert api_client.get(f"{API}/provider-ranking").get_json()["providers"] == {}


def test_counts_are_written_in_batches(ranking):
    from sublarr.core.db.scoring import get_provider_ranking
    from sublarr.plugins.provider_ranking import FLUSH_EVENTS

    enable()
    for _ in range(FLUSH_EVENTS - 1):
        failed("flaky")
    assert get_provider_ranking() == {}  # still in memory
    failed("flaky")
    assert get_provider_ranking()["flaky"]["failures"] == FLUSH_EVENTS
    failed("flaky")
    assert ranking.state()["providers"]["flaky"]["failures"] == FLUSH_EVENTS + 1  # shown after a flush


def test_bad_settings_are_refused_and_change_nothing(ranking):
    from sublarr.core.db.scoring import get_scoring_preferences, set_scoring_preferences

    before = get_scoring_preferences()
    for section, field in (
        ({"enabled": "yes"}, "provider_ranking.enabled"),
        ({"cap": -5}, "provider_ranking.cap"),
        ({"cap": 5000}, "provider_ranking.cap"),
        ({"min_sample": 0}, "provider_ranking.min_sample"),
        ({"window": 3}, "provider_ranking.window"),
    ):
        with pytest.raises(ValidationError) as info:
            set_scoring_preferences({"provider_ranking": section})
        assert info.value.field == field
    assert get_scoring_preferences() == before


def test_cli_shows_and_resets_the_learned_state(ranking):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    assert "disabled" in run("providers", "ranking").output
    assert (
        run("preferences", "set", "provider_ranking.enabled=true", "provider_ranking.min_sample=1").exit_code
        == 0
    )
    downloaded("good")
    out = run("providers", "ranking")
    assert out.exit_code == 0 and "good" in out.output and "+20" in out.output, out.output
    assert json.loads(run("providers", "ranking", "--json").output)["providers"]["good"]["modifier"] == 20
    out = run("providers", "reset-ranking")
    assert out.exit_code == 0 and "1 provider(s) forgotten" in out.output
    assert "nothing learned yet" in run("providers", "ranking").output
