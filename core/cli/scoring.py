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

_TYPE_OPTION = click.Choice(SCORE_TYPES)


# -- sublarr score ----------------------------------------------------------------------------


@click.command("score")
@click.option(
    "--type",
    "score_type",
    type=_TYPE_OPTION,
    default="episode",
    show_default=True,
    help="Which weight table to use.",
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
@click.option("--explain", is_flag=True, help="Show where every point came from.")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
def score_command(
    score_type: str, matches: str, provider: str, subtitle_format: str, explain: bool, as_json: bool
) -> None:
    """Score a hypothetical subtitle with the weights and modifiers in force."""
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
    if score_type == "episode":
        query = VideoQuery(series_title="(command line)", season=1, episode=1)
    else:
        query = VideoQuery(title="(command line)")
    result = SubtitleResult(
        provider_name=provider, subtitle_id="cli", language="und", format=subtitle_format, matches=keys
    )
    if explain or as_json:
        explanation = explain_score(result, query)
        click.echo(json.dumps(explanation, indent=2) if as_json else format_explanation(explanation))
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
    try:
        if file == "-":
            data = json.load(sys.stdin)
        else:
            with open(file, encoding="utf-8") as fh:
                data = json.load(fh)
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise click.ClickException(f"{file} is not valid JSON: {exc}") from None
    from sublarr.core.scoring.presets import import_scoring_preset

    try:
        summary = import_scoring_preset(data)
    except SublarrError as exc:
        raise click.ClickException(f"preset not imported, nothing changed: {exc}") from None
    counts = ", ".join(f"{n} {t}" for t, n in summary["weights"].items())
    click.echo(
        f"scoring preset imported: weight overrides {counts}; "
        f"{summary['provider_modifiers']} provider modifier(s)"
    )


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


COMMANDS: tuple[click.Command, ...] = (score_command, weights_group, providers_group)
