"""``sublarr score``, ``sublarr weights ...`` and ``sublarr providers ...``: scoring from the shell.

The commands use the database ``init_db()`` opens: ``SUBLARR_DATABASE_URL``, else the
embedded file in ``SUBLARR_DATA_DIR``. Bad input ends with a one-line error and a non-zero
exit status.
"""

from __future__ import annotations

import json
import sys

import click

from sublarr.core.cli.tables import format_table
from sublarr.core.errors import SublarrError
from sublarr.core.scoring import (
    FORMAT_BONUS,
    SCORE_TYPES,
    SubtitleResult,
    VideoQuery,
    compute_score,
    describe_weights,
    explain_score,
    format_explanation,
    known_weight_keys,
    validate_modifier,
)
from sublarr.core.scoring.compute import check_min_score
from sublarr.core.scoring.models import subtitle_result_from_dict, video_query_from_dict

_TYPE_OPTION = click.Choice(SCORE_TYPES)


# -- sublarr score ----------------------------------------------------------------------------


def _read_json(file: str) -> object:
    """The JSON document in ``file`` ('-' for stdin); a one-line error when it cannot be read."""
    try:
        if file == "-":
            return json.load(sys.stdin)
        with open(file, encoding="utf-8") as fh:
            return json.load(fh)
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise click.ClickException(f"{file} is not valid JSON: {exc}") from None


def _from_json(file: str) -> tuple[SubtitleResult, VideoQuery, int | None]:
    """``{"result": {...}, "query": {...}, "min_score": N}`` read from ``file``."""
    data = _read_json(file)
    if not isinstance(data, dict) or "result" not in data:
        raise click.ClickException(f'{file}: expected {{"result": {{...}}, "query": {{...}}}}')
    unknown = sorted(set(data) - {"result", "query", "min_score"})
    if unknown:
        raise click.ClickException(f"{file}: unknown field {unknown[0]!r} (known: result, query, min_score)")
    try:
        result = subtitle_result_from_dict(data["result"])
        query = video_query_from_dict(data.get("query", {}))
        min_score = data.get("min_score")
        if min_score is not None:
            check_min_score(min_score)
    except SublarrError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    return result, query, min_score


@click.command("score")
@click.option(
    "--type",
    "score_type",
    type=_TYPE_OPTION,
    default=None,
    help="Which weight table to use (default: episode, or what the query is).",
)
@click.option(
    "--matches",
    default="",
    metavar="KEY,KEY...",
    help="What the subtitle matches, e.g. hash,series,season,episode.",
)
@click.option("--provider", default="cli", show_default=True, help="Provider name (for its modifier).")
@click.option(
    "--format",
    "subtitle_format",
    default="srt",
    show_default=True,
    help="Subtitle format; ass/ssa earn the format bonus.",
)
@click.option("--hearing-impaired", is_flag=True, help="The subtitle is for the hearing impaired.")
@click.option("--forced", is_flag=True, help="The subtitle is forced (foreign parts only).")
@click.option("--machine-translated", is_flag=True, help="The subtitle is machine-translated.")
@click.option("--release-group", help="The subtitle's release group.")
@click.option("--release-info", help="The release name the subtitle was made for.")
@click.option("--uploader", help="Who uploaded the subtitle.")
@click.option("--uploader-trust", type=float, help="The provider's trust score of the uploader.")
@click.option("--language", default="und", show_default=True, help="The subtitle's language.")
@click.option("--video-release-group", help="The video's release group (query).")
@click.option("--languages", default="", metavar="LANG,LANG...", help="Wanted languages (query).")
@click.option("--min-score", type=click.IntRange(0, 100), help="Cut-off percent (default: the stored one).")
@click.option("--explain", is_flag=True, help="Show where every point came from.")
@click.option(
    "--json",
    "json_file",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[FILE]",
    help='Print the explanation as JSON; with FILE (or - for stdin), score the {"result", "query"} in it.',
)
def score_command(
    score_type: str | None,
    matches: str,
    provider: str,
    subtitle_format: str,
    hearing_impaired: bool,
    forced: bool,
    machine_translated: bool,
    release_group: str | None,
    release_info: str | None,
    uploader: str | None,
    uploader_trust: float | None,
    language: str,
    video_release_group: str | None,
    languages: str,
    min_score: int | None,
    explain: bool,
    json_file: str | None,
) -> None:
    """Score a subtitle with the weights, modifiers and preferences in force.

    Describe it with flags, or give a whole result and query with --json FILE.
    """
    if json_file:
        result, query, file_min_score = _from_json(json_file)
        if min_score is None:
            min_score = file_min_score
        if score_type is not None and score_type != ("episode" if query.is_episode else "movie"):
            raise click.BadParameter(
                f"the query in {json_file} is not a(n) {score_type}", param_hint="--type"
            )
    else:
        score_type = score_type or "episode"
        keys = {m.strip() for m in matches.split(",") if m.strip()}
        valid = known_weight_keys(score_type) - {FORMAT_BONUS}
        unknown = sorted(keys - valid)
        if unknown:
            raise click.BadParameter(
                f"unknown {score_type} match key(s) {', '.join(unknown)} (known: {', '.join(sorted(valid))})",
                param_hint="--matches",
            )
        try:
            validate_modifier(provider, 0)
        except SublarrError as exc:
            raise click.BadParameter(str(exc), param_hint="--provider") from None
        wanted = tuple(lang.strip() for lang in languages.split(",") if lang.strip())
        if score_type == "episode":
            query = VideoQuery(
                series_title="(command line)",
                season=1,
                episode=1,
                release_group=video_release_group,
                languages=wanted,
            )
        else:
            query = VideoQuery(title="(command line)", release_group=video_release_group, languages=wanted)
        result = SubtitleResult(
            provider_name=provider,
            subtitle_id="cli",
            language=language,
            format=subtitle_format,
            matches=keys,
            hearing_impaired=hearing_impaired,
            forced=forced,
            machine_translated=machine_translated,
            release_group=release_group,
            release_info=release_info,
            uploader_name=uploader,
            uploader_trust=uploader_trust,
        )
    if explain or json_file is not None:
        explanation = explain_score(result, query, min_score)
        click.echo(
            json.dumps(explanation, indent=2) if json_file is not None else format_explanation(explanation)
        )
    else:
        click.echo(compute_score(result, query))


# -- sublarr weights --------------------------------------------------------------------------


@click.group("weights")
def weights_group() -> None:
    """Show and change the scoring weights."""


@weights_group.command("show")
@click.option("--type", "score_type", type=_TYPE_OPTION, help="Only this score type.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def weights_show(score_type: str | None, as_json: bool) -> None:
    """The weights in force: default, value and where the value comes from."""
    types = [score_type] if score_type else list(SCORE_TYPES)
    described = {t: describe_weights(t) for t in types}
    if as_json:
        click.echo(json.dumps(described, indent=2))
        return
    for i, t in enumerate(types):
        if i:
            click.echo()
        click.echo(f"{t} weights")
        rows = [
            [w["key"], "-" if w["default"] is None else w["default"], w["value"], w["source"]]
            for w in described[t]
        ]
        click.echo(format_table(rows, ["key", "default", "value", "source"]))


def _parse_pairs(pairs: tuple[str, ...]) -> dict[str, int]:
    weights: dict[str, int] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="KEY=VALUE")
        try:
            weights[key.strip()] = int(value.strip())
        except ValueError:
            raise click.BadParameter(
                f"{key.strip()}: {value!r} is not an integer", param_hint="KEY=VALUE"
            ) from None
    return weights


@weights_group.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...")
@click.option("--type", "score_type", type=_TYPE_OPTION, default="episode", show_default=True)
def weights_set(pairs: tuple[str, ...], score_type: str) -> None:
    """Store weight overrides, e.g. `sublarr weights set hash=400 series=200`."""
    weights = _parse_pairs(pairs)
    from sublarr.core.db.scoring import set_scoring_weights

    set_scoring_weights(score_type, weights)
    click.echo(f"{score_type} weights stored: " + ", ".join(f"{k}={v}" for k, v in weights.items()))


@weights_group.command("reset")
@click.option("--type", "score_type", type=_TYPE_OPTION, help="Only this score type (default: all).")
def weights_reset(score_type: str | None) -> None:
    """Drop the stored overrides: the defaults apply again."""
    from sublarr.core.db.scoring import reset_scoring_weights

    reset_scoring_weights(score_type)
    click.echo(f"{score_type or 'all'} weights reset to defaults")


@weights_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--description", help="A line saying what the preset is for.")
def weights_export(file: str, description: str | None) -> None:
    """Write stored weights and provider modifiers to FILE as a preset ('-' for stdout)."""
    from sublarr.core.scoring.presets import export_scoring_preset

    text = json.dumps(export_scoring_preset(description), indent=2) + "\n"
    if file == "-":
        click.echo(text, nl=False)
        return
    try:
        with open(file, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise click.ClickException(f"cannot write {file}: {exc.strerror or exc}") from None
    click.echo(f"scoring preset written to {file}", err=True)


@weights_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
def weights_import(file: str) -> None:
    """Replace stored weights and provider modifiers with the preset in FILE ('-' for stdin)."""
    data = _read_json(file)
    from sublarr.core.scoring.presets import import_scoring_preset

    try:
        summary = import_scoring_preset(data)
    except SublarrError as exc:
        raise click.ClickException(f"preset not imported, nothing changed: {exc}") from None
    _print_imported(summary)


def _print_imported(summary: dict[str, object]) -> None:
    weights = summary["weights"]
    counts = ", ".join(f"{n} {t}" for t, n in weights.items()) if isinstance(weights, dict) else ""
    prefs = summary.get("preferences")  # absent: the preset held none
    click.echo(
        f"scoring preset imported: weight overrides {counts}; "
        f"{summary['provider_modifiers']} provider modifier(s); "
        + ("preferences unchanged" if prefs is None else f"{prefs} preference value(s)")
    )


@weights_group.command("presets")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def weights_presets(as_json: bool) -> None:
    """The bundled presets (apply one with `sublarr weights apply-preset NAME`)."""
    from sublarr.core.scoring.presets import bundled_presets

    presets = bundled_presets()
    if as_json:
        click.echo(json.dumps(presets, indent=2))
        return
    click.echo(format_table([[p["name"], p["description"]] for p in presets], ["name", "description"]))


@weights_group.command("apply-preset")
@click.argument("name")
def weights_apply_preset(name: str) -> None:
    """Replace stored weights, modifiers and preferences with the bundled preset NAME."""
    from sublarr.core.scoring.presets import apply_bundled_preset

    try:
        summary = apply_bundled_preset(name)
    except SublarrError as exc:
        raise click.ClickException(f"preset not applied, nothing changed: {exc}") from None
    _print_imported(summary)


# -- sublarr preferences ----------------------------------------------------------------------


@click.group("preferences")
def preferences_group() -> None:
    """Scoring preferences: hearing-impaired, forced, uploader trust, machine-translated, cut-off."""


@preferences_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def preferences_show(as_json: bool) -> None:
    """The preferences in force (defaults where nothing is stored)."""
    from sublarr.core.db.scoring import get_scoring_preferences

    prefs = get_scoring_preferences()
    if as_json:
        click.echo(json.dumps(prefs, indent=2))
        return
    rows = [
        [f"{section}.{key}", json.dumps(value)]
        for section, values in prefs.items()
        for key, value in values.items()
    ]
    click.echo(format_table(rows, ["preference", "value"]))


@preferences_group.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("pairs", nargs=-1, required=True, metavar="SECTION.KEY=VALUE...")
def preferences_set(pairs: tuple[str, ...]) -> None:
    """Store preferences, e.g. `hearing_impaired.mode=prefer min_score.episode=90`.

    VALUE is JSON where it parses as JSON (numbers, true/false, {"name": 10}), else text.
    """
    changes: dict[str, dict[str, object]] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        section, dot, key = name.strip().partition(".")
        if not sep or not dot or not section or not key:
            raise click.BadParameter(f"{pair!r} is not SECTION.KEY=VALUE", param_hint="SECTION.KEY=VALUE")
        try:
            value: object = json.loads(raw)
        except ValueError:
            value = raw
        changes.setdefault(section, {})[key] = value
    from sublarr.core.db.scoring import set_scoring_preferences

    set_scoring_preferences(changes)
    click.echo("scoring preferences stored: " + ", ".join(p.partition("=")[0].strip() for p in pairs))


@preferences_group.command("reset")
@click.option("--section", help="Only this preference (default: all).")
def preferences_reset(section: str | None) -> None:
    """Drop the stored preferences: the defaults apply again."""
    from sublarr.core.db.scoring import reset_scoring_preferences

    reset_scoring_preferences(section)
    click.echo(f"scoring preferences reset ({section or 'all'})")


# -- sublarr providers ------------------------------------------------------------------------


@click.group("providers")
def providers_group() -> None:
    """Per-provider score modifiers."""


@providers_group.command("modifier", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("value")
def providers_modifier(name: str, value: str) -> None:
    """Add VALUE (may be negative) to every score of provider NAME."""
    try:
        number = int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an integer", param_hint="VALUE") from None
    from sublarr.core.db.scoring import set_provider_modifier

    set_provider_modifier(name, number)
    click.echo(f"provider {name}: modifier {number:+d}")


@providers_group.command("remove")
@click.argument("name")
def providers_remove(name: str) -> None:
    """Drop the modifier of provider NAME."""
    from sublarr.core.db.scoring import delete_provider_modifier

    delete_provider_modifier(name)
    click.echo(f"provider {name}: modifier removed")


@providers_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def providers_list(as_json: bool) -> None:
    """The stored provider modifiers."""
    from sublarr.core.db.scoring import get_all_provider_modifiers

    modifiers = dict(sorted(get_all_provider_modifiers().items()))
    if as_json:
        click.echo(json.dumps(modifiers, indent=2))
    elif not modifiers:
        click.echo("No provider modifiers stored.")
    else:
        click.echo(format_table([[n, f"{v:+d}"] for n, v in modifiers.items()], ["provider", "modifier"]))


COMMANDS: tuple[click.Command, ...] = (score_command, weights_group, providers_group, preferences_group)
