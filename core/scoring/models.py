"""What the scorer reads: the video searched for and one subtitle found for it.

Providers build a ``VideoQuery`` for the video and one ``SubtitleResult`` per subtitle they
found, with ``matches`` naming what the subtitle agrees on (``"hash"``, ``"series"``,
``"season"``...). ``compute_score`` fills in ``score`` and ``score_breakdown``.

Some matches are derived by the scorer from what providers report, so a provider or plugin
need not work them out from file names (``derived_matches``): ``release_group`` when the
result's ``release_group`` equals the query's (case-insensitive).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    languages: tuple[str, ...] = ()
    fps: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.languages, tuple):
            self.languages = tuple(self.languages) if self.languages is not None else ()

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

    What real providers report beside the matches: ``forced`` (foreign parts only),
    ``release_info`` (the release name the subtitle was made for), ``release_group``,
    ``uploader_name``, ``uploader_trust`` (a provider-supplied trust score, Sublarr's scale
    is 0-20 points), ``machine_translated`` and ``fps``. The built-in preference plugins
    score ``hearing_impaired``, ``forced``, the uploader and ``machine_translated``.
    """

    provider_name: str
    subtitle_id: str
    language: str
    format: str = "srt"
    matches: set[str] = field(default_factory=set)
    hearing_impaired: bool = False
    forced: bool = False
    release_info: str | None = None
    release_group: str | None = None
    uploader_name: str | None = None
    uploader_trust: float | None = None
    machine_translated: bool = False
    fps: float | None = None
    score: int = 0
    score_breakdown: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.matches, set):
            matches: Iterable[str] = self.matches if self.matches is not None else ()
            self.matches = set(matches)


def derived_matches(result: SubtitleResult, query: VideoQuery) -> set[str]:
    """The matches the scorer adds to ``result.matches`` from the reported fields.

    ``release_group`` when both name a release group and they are equal ignoring case.
    """
    group = result.release_group
    wanted = query.release_group
    if group and wanted and group.casefold() == wanted.casefold():
        return {"release_group"}
    return set()


# What each field may hold when built from JSON (the CLI's ``score --json FILE``).
_QUERY_FIELDS: dict[str, tuple[type, ...]] = {
    "title": (str,),
    "year": (int,),
    "series_title": (str,),
    "season": (int,),
    "episode": (int,),
    "release_group": (str,),
    "source": (str,),
    "resolution": (str,),
    "video_codec": (str,),
    "audio_codec": (str,),
    "languages": (list,),
    "fps": (int, float),
}
_RESULT_FIELDS: dict[str, tuple[type, ...]] = {
    "provider_name": (str,),
    "subtitle_id": (str,),
    "language": (str,),
    "format": (str,),
    "matches": (list,),
    "hearing_impaired": (bool,),
    "forced": (bool,),
    "release_info": (str,),
    "release_group": (str,),
    "uploader_name": (str,),
    "uploader_trust": (int, float),
    "machine_translated": (bool,),
    "fps": (int, float),
}


def _checked(kind: str, data: Any, fields: dict[str, tuple[type, ...]]) -> dict[str, Any]:
    from sublarr.core.errors import ValidationError

    if not isinstance(data, Mapping):
        raise ValidationError(kind, f"expected an object, got {type(data).__name__}")
    clean: dict[str, Any] = {}
    for key, value in data.items():
        types = fields.get(key) if isinstance(key, str) else None
        if types is None:
            raise ValidationError(f"{kind}.{key}", f"unknown field (known: {', '.join(fields)})")
        if value is None:
            continue
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            names = " or ".join(t.__name__ for t in types)
            raise ValidationError(f"{kind}.{key}", f"expected {names}, got {type(value).__name__}")
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise ValidationError(f"{kind}.{key}", "expected a list of strings")
        clean[key] = value
    return clean


def video_query_from_dict(data: Any) -> VideoQuery:
    """A ``VideoQuery`` from a JSON object of its fields; ``ValidationError`` for anything else."""
    return VideoQuery(**_checked("query", data, _QUERY_FIELDS))


def subtitle_result_from_dict(data: Any) -> SubtitleResult:
    """A ``SubtitleResult`` from a JSON object of its fields (``provider_name`` required)."""
    from sublarr.core.errors import ValidationError

    clean = _checked("result", data, _RESULT_FIELDS)
    if "provider_name" not in clean:
        raise ValidationError("result.provider_name", "required")
    clean.setdefault("subtitle_id", "cli")
    clean.setdefault("language", "und")
    return SubtitleResult(**clean)
