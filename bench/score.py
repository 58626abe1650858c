"""Benchmark of the scoring hot path; prints ratios measured in this run, asserts nothing.

1. ``compute_score`` with the built-in plugins and a warm cache, on four matches, against
   ``subliminal.score.compute_score`` on the same four matches when subliminal is
   importable, else against a plain ``sum(weights[k] for k in matches)`` call (the floor);
   with every preference at ``include`` the built-in ``preferences`` plugin is not called
   per result. Then again with preferences set (hearing-impaired prefer, forced exclude,
   machine-translated penalty; then a trusted uploader with provider trust as well), on a
   result they apply to. Target: at most 1.0x. Times are CPU time of this process
   (``time.process_time``) for both sides, so other load on a shared machine counts less.
2. ``score_many`` over 1,000 results against a plain ``sum(weights[k] for k in matches)``
   loop over the same results.
3. The cost per third-party ``score_modifier`` plugin per result, with 5 such plugins.
4. What the cache saves: ``compute_score`` with the cache dropped before every call.

Uses a temporary SQLite database holding one stored weight and two provider modifiers.
Run: ``.venv/bin/python bench/score.py`` (about 10 s).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

FOUR = ("series", "season", "episode", "release_group")


def best_per_call(stmt: Any, number: int, repeat: int = 5) -> float:
    """Seconds per call of ``stmt``, best of ``repeat`` runs of ``number`` calls."""
    return min(timeit.repeat(stmt, number=number, repeat=repeat, timer=time.process_time)) / number


def us(seconds: float) -> str:
    return f"{seconds * 1e6:8.3f} µs"


def subliminal_baseline() -> tuple[str, Any] | None:
    """``(label, zero-arg callable)`` timing subliminal's compute_score on FOUR, or None."""
    try:
        from babelfish import Language
        from subliminal.score import compute_score as subliminal_compute_score
        from subliminal.subtitle import Subtitle
        from subliminal.video import Episode
    except ImportError:
        return None

    class FixedSubtitle(Subtitle):
        provider_name = "opensubtitles"

        def get_matches(self, video: Any) -> set[str]:
            return set(FOUR)

    video = Episode("Show.S01E01.720p.WEB-DL.mkv", "Show", 1, 1, release_group="GRP")
    subtitle = FixedSubtitle(Language("eng"), "1")
    expected = sum(subliminal_episode_weight(k) for k in FOUR)
    got = subliminal_compute_score(subtitle, video)
    assert got == expected, (got, expected)
    return "subliminal.score.compute_score", lambda: subliminal_compute_score(subtitle, video)


def subliminal_episode_weight(key: str) -> int:
    from subliminal.score import episode_scores

    return episode_scores.get(key, 0)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="sublarr-bench-"))
    os.environ["SUBLARR_DATA_DIR"] = str(tmp)
    os.environ["SUBLARR_LOAD_PLUGINS"] = "sublarr"  # built-ins only, whatever else is installed
    os.environ.pop("SUBLARR_DATABASE_URL", None)
    os.environ.pop("SUBLARR_SCORING_CACHE_TTL", None)

    from sublarr.core import hookimpl, load_plugins
    from sublarr.core.db.engine import dispose_db, init_db
    from sublarr.core.db.scoring import set_provider_modifier, set_scoring_weights
    from sublarr.core.scoring import (
        SubtitleResult,
        VideoQuery,
        compute_score,
        effective_weights,
        invalidate_scoring_cache,
        score_many,
    )

    init_db(f"sqlite:///{tmp / 'bench.db'}")
    pm = load_plugins()
    set_scoring_weights("episode", {"release_group": 15})
    set_provider_modifier("opensubtitles", -20)
    set_provider_modifier("addic7ed", 10)
    query = VideoQuery(series_title="Show", season=1, episode=1, release_group="GRP")
    weights = effective_weights("episode")
    loaded = sorted(name for name, _ in pm.list_name_plugin())
    print(f"python {sys.version.split()[0]}; plugins loaded: {', '.join(loaded)}")
    print(f"episode weights in force: {weights}")

    # 1. one result, four matches
    result = SubtitleResult("opensubtitles", "1", "en", matches=set(FOUR))
    compute_score(result, query)  # warm the cache
    assert result.score == sum(weights[k] for k in FOUR) - 20, result.score_breakdown
    ours = best_per_call(lambda: compute_score(result, query), 200_000)
    baseline = subliminal_baseline()
    if baseline is None:
        matches = set(FOUR)
        label = "floor: sum(weights[k] for k in matches) (subliminal not importable)"
        theirs = best_per_call(lambda: sum(weights[k] for k in matches), 200_000)
    else:
        label, call = baseline
        theirs = best_per_call(call, 200_000)
    print("\n1. compute_score, built-ins only, warm cache, 4 matches + provider modifier")
    print(f"   baseline: {label}")
    print(f"   sublarr compute_score      {us(ours)}")
    print(f"   baseline                   {us(theirs)}")
    print(f"   ratio sublarr / baseline   {ours / theirs:8.2f}x  (target <= 1.0x)")

    from sublarr.core.db.scoring import reset_scoring_preferences, set_scoring_preferences

    flags = {
        "hearing_impaired": {"mode": "prefer"},
        "forced": {"mode": "exclude"},
        "machine_translated": {"mode": "penalty"},
    }
    uploaders = {"uploader_trust": {"uploaders": {"ace": 10}, "provider_trust": True}}
    preferred = SubtitleResult(
        "opensubtitles",
        "2",
        "en",
        matches=set(FOUR),
        hearing_impaired=True,
        uploader_name="Ace",
        uploader_trust=5.0,
    )
    four = sum(weights[k] for k in FOUR) - 20
    for label, prefs, expected in (
        ("hearing-impaired, forced, machine-translated set", flags, four + 30),
        ("and uploader trust too (every preference)", {**flags, **uploaders}, four + 30 + 10 + 5),
    ):
        reset_scoring_preferences()
        set_scoring_preferences(prefs)
        compute_score(preferred, query)
        assert preferred.score == expected, preferred.score_breakdown
        with_prefs = best_per_call(lambda: compute_score(preferred, query), 200_000)
        print(f"   preferences plugin scoring: {label}")
        print(f"   sublarr compute_score      {us(with_prefs)}")
        print(f"   ratio sublarr / baseline   {with_prefs / theirs:8.2f}x  (target <= 1.0x)")
    reset_scoring_preferences()

    # 2. a search's results
    rng = random.Random(7)
    keys = [k for k in weights if k != "format_bonus"]
    providers = ["opensubtitles", "addic7ed", "podnapisi", "tvsubtitles"]
    results = [
        SubtitleResult(
            rng.choice(providers),
            str(i),
            "en",
            format=rng.choice(["srt", "srt", "ass"]),
            matches=set(rng.sample(keys, rng.randint(1, 6))),
        )
        for i in range(1000)
    ]

    def plain_loop() -> None:
        for r in results:
            sum(weights[k] for k in r.matches)

    ranked = score_many(results, query)
    assert [r.score for r in ranked] == sorted((r.score for r in results), reverse=True)
    many = best_per_call(lambda: score_many(results, query), 200)
    floor = best_per_call(plain_loop, 200)
    print("\n2. score_many over 1,000 results (sorted, with breakdowns)")
    print(f"   score_many                 {us(many)}  ({us(many / 1000).strip()} per result)")
    print(f"   plain sum loop             {us(floor)}  ({us(floor / 1000).strip()} per result)")
    print(f"   ratio score_many / loop    {many / floor:8.2f}x")

    # 3. third-party score_modifier plugins
    class Bonus:
        def __init__(self, points: int) -> None:
            self.points = points

        @hookimpl
        def score_modifier(self, result: Any, query: Any) -> int | None:
            return self.points if result.provider_name != "podnapisi" else None

    base = best_per_call(lambda: compute_score(result, query), 100_000)
    for i in range(5):
        pm.register(Bonus(i + 1), name=f"bench_bonus_{i}")
    compute_score(result, query)
    assert result.score_breakdown.get("plugin:bench_bonus_4") == 5, result.score_breakdown
    with_plugins = best_per_call(lambda: compute_score(result, query), 100_000)
    per_plugin = (with_plugins - base) / 5
    print("\n3. compute_score with 5 third-party score_modifier plugins")
    print(f"   built-ins only             {us(base)}")
    print(f"   + 5 plugins                {us(with_plugins)}")
    print(
        f"   overhead per plugin        {us(per_plugin)}  (x{per_plugin / theirs:.2f} of the baseline in 1.)"
    )
    for i in range(5):
        pm.unregister(name=f"bench_bonus_{i}")

    # 4. the cache
    def cold() -> None:
        invalidate_scoring_cache()
        compute_score(result, query)

    cold_time = best_per_call(cold, 200, repeat=3)
    warm = best_per_call(lambda: compute_score(result, query), 100_000)
    print("\n4. what the cache saves")
    print(f"   cold (cache dropped, DB read) {us(cold_time)}")
    print(f"   warm                          {us(warm)}")
    print(f"   ratio cold / warm             {cold_time / warm:8.0f}x")

    dispose_db()


if __name__ == "__main__":
    main()
