"""Benchmark of payload templates and filters; prints figures measured in this run, asserts nothing.

1. Webhook deliveries per second to a loopback receiver (another process), signed and
   logged by a 4-worker pool: with a rendered body template (the Discord preset) against
   the fixed Standard Webhooks envelope, measured alternately (target: >= 80 %).
2. Rendering each preset once (what a templated delivery adds), in µs.
3. Evaluating a target's filters (3 conditions) per event and target, for a payload that
   passes and one that fails, and ``apply_filters`` over 50 targets (target: < 2 µs).

Uses a temporary SQLite database. Run: ``.venv/bin/python bench/notify.py`` (about 30 s).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from delivery import per_call, pool_rate, start_receiver, stop_receiver

PAYLOAD = {
    "media_type": "episode",
    "title": "The Last Light",
    "series_title": "Dark",
    "season": 1,
    "episode": 3,
    "language": "de",
    "provider_name": "opensubtitles",
    "score": 350,
    "format": "srt",
    "hearing_impaired": False,
    "relative_path": "Dark/Season 01/Dark - S01E03.de.srt",
}
FILTERS = [
    {"field": "media_type", "op": "==", "value": "episode"},
    {"field": "language", "op": "in", "value": ["de", "en"]},
    {"field": "score", "op": ">=", "value": 300},
]


def templated_vs_envelope(settings, url: str, count: int, rounds: int) -> tuple[float, float]:
    """Best deliveries/s of the fixed envelope and of the Discord preset, measured alternately."""
    from sublarr.core.db import get_engine
    from sublarr.core.delivery import add_webhook, update_webhook

    plain = add_webhook("plain", "subtitle_downloaded", url, retry_count=0)
    templated = add_webhook(
        "discord", "subtitle_downloaded", url, retry_count=0, preset="discord", enabled=False
    )
    best = {"plain": 0.0, "templated": 0.0}
    for _ in range(rounds):
        for name, on, off in (("plain", plain, templated), ("templated", templated, plain)):
            update_webhook(off["id"], enabled=False)
            update_webhook(on["id"], enabled=True)
            with get_engine().begin() as conn:
                conn.exec_driver_sql("DELETE FROM deliveries")
            best[name] = max(best[name], pool_rate(settings, count, "subtitle_downloaded", PAYLOAD))
    return best["plain"], best["templated"]


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="sublarr-bench-notify-"))
    os.environ.update(
        {
            "SUBLARR_DATA_DIR": str(tmp),
            "SUBLARR_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
            "SUBLARR_LOAD_PLUGINS": "sublarr",  # the built-ins only
        }
    )
    from sublarr.core import load_plugins
    from sublarr.core.db import init_db
    from sublarr.core.delivery.filters import apply_filters, check_filters, compile_filters
    from sublarr.core.delivery.template_presets import PRESETS, preset_template
    from sublarr.core.delivery.templates import compiled, template_context
    from sublarr.core.settings import load_settings

    init_db()
    load_plugins()
    settings = load_settings()

    # 1. templated deliveries against the fixed envelope ------------------------------------
    proc, url = start_receiver(0.0)
    count, rounds = 1000, 3
    plain, templated = templated_vs_envelope(settings, url, count, rounds)
    stop_receiver(proc)
    print(
        f"1. webhook deliveries to a loopback receiver ({count} x {rounds} rounds, signed, logged, 4 workers)"
    )
    print(f"   fixed Standard Webhooks envelope   {plain:8.0f} /s")
    print(
        f"   Discord preset, rendered           {templated:8.0f} /s   ratio {templated / plain:.0%}"
        "  (target >= 80%)"
    )

    # 2. rendering each preset ----------------------------------------------------------------
    context = template_context("msg_x", "subtitle_downloaded", "ev", "2026-11-28T12:00:00.000+00:00", PAYLOAD)
    print("\n2. rendering one body (subtitle_downloaded, 11 payload keys)")
    options = {"ntfy": {"topic": "subs"}, "telegram": {"chat_id": 1}}
    for name in PRESETS:
        template = compiled(preset_template(name, options.get(name)))
        seconds = per_call(lambda template=template: template.render(context), 2000)
        print(f"   {name:<16} {seconds * 1e6:8.1f} µs")

    # 3. filters --------------------------------------------------------------------------------
    test = compile_filters(check_filters(FILTERS, "subtitle_downloaded"))
    assert test is not None
    failing = {**PAYLOAD, "language": "fr"}
    passes = per_call(lambda: test.matches(PAYLOAD), 200_000)
    fails = per_call(lambda: test.matches(failing), 200_000)
    tests = {target_id: test for target_id in range(50)}
    targets = tuple(range(50))
    fan_out = per_call(lambda: apply_filters(tests, targets, PAYLOAD), 5_000) / len(targets)
    print("\n3. filters (3 conditions: ==, in, >=) per event and target")
    print(f"   payload passes                     {passes * 1e6:8.2f} µs  (target < 2 µs)")
    print(f"   payload fails (at the 2nd)         {fails * 1e6:8.2f} µs  (target < 2 µs)")
    print(f"   apply_filters, 50 targets          {fan_out * 1e6:8.2f} µs per target")


if __name__ == "__main__":
    main()
