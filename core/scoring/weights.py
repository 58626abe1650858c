"""The default weight tables: what each match is worth before plugins and the user change it.

``format_bonus`` is added for an ASS/SSA subtitle; every other key counts when a result's
``matches`` holds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["DEFAULT_WEIGHTS", "EPISODE_SCORES", "FORMAT_BONUS", "MOVIE_SCORES", "SCORE_TYPES"]

FORMAT_BONUS = "format_bonus"

EPISODE_SCORES: Mapping[str, int] = MappingProxyType(
    {
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
        FORMAT_BONUS: 50,
    }
)

MOVIE_SCORES: Mapping[str, int] = MappingProxyType(
    {
        "hash": 119,
        "title": 60,
        "year": 30,
        "release_group": 13,
        "source": 7,
        "audio_codec": 3,
        "resolution": 2,
        "hearing_impaired": 1,
        FORMAT_BONUS: 50,
    }
)

DEFAULT_WEIGHTS: Mapping[str, Mapping[str, int]] = MappingProxyType(
    {"episode": EPISODE_SCORES, "movie": MOVIE_SCORES}
)
SCORE_TYPES: tuple[str, ...] = tuple(DEFAULT_WEIGHTS)
