"""What the scorer reads: the video searched for and one subtitle found for it.

Providers build a ``VideoQuery`` for the video and one ``SubtitleResult`` per subtitle they
found, with ``matches`` naming what the subtitle agrees on (``"hash"``, ``"series"``,
``"season"``...). ``compute_score`` fills in ``score`` and ``score_breakdown``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

ASS_FORMATS: frozenset[str] = frozenset({"ass", "ssa"})


@dataclass(slots=True)
class VideoQuery:
    """The video subtitles are searched for: an episode of a series, or a movie."""

    title: str | None = None
    year: int | None = None
    series_title: str | None = None
    season: int | None = None
    episode: int | None = None
    release_group: str | None = None
    source: str | None = None
    resolution: str | None = None
    video_codec: str | None = None
    audio_codec: str | None = None

    @property
    def is_episode(self) -> bool:
        """True for an episode (a series title, season or episode is given), else a movie."""
        return bool(self.series_title) or self.season is not None or self.episode is not None


@dataclass(slots=True)
class SubtitleResult:
    """One subtitle a provider found; ``score`` and ``score_breakdown`` are set by scoring.

    ``matches`` is a set of weight keys the subtitle matches (any iterable is turned into
    a set). ``score_breakdown`` maps each scoring term (``"hash"``, ``"format_bonus"``,
    ``"provider:opensubtitles"``, ``"plugin:<name>"``) to the points it gave.
    """

    provider_name: str
    subtitle_id: str
    language: str
    format: str = "srt"
    matches: set[str] = field(default_factory=set)
    hearing_impaired: bool = False
    score: int = 0
    score_breakdown: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.matches, set):
            matches: Iterable[str] = self.matches if self.matches is not None else ()
            self.matches = set(matches)
