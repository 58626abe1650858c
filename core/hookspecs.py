"""The hooks a sublarr plugin can implement.

Every hook below is documented in PLUGINS.md with a runnable example; a test keeps the
two in step. Plugins implement them with ``@sublarr.core.hookimpl`` and may accept any
subset of a hook's arguments, as pluggy allows.

Each implementation runs isolated: if it raises, or returns a value of the wrong type,
the error is logged with the plugin's name and counted, and the other implementations
still run.

These hooks are the whole contract: sublarr reads nothing else from a plugin (beyond the
``@only_events`` marker on an ``on_event`` implementation).
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT_NAME = "sublarr"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_events(register: Any) -> None:
    """Add events of the plugin's own to the event catalog.

    Called once, when the plugin is loaded, before any event is emitted.

    ``register(name, label, description, payload_keys)`` adds one event. ``name`` must be
    namespaced with a dot (``myplugin.thing_happened``); ``payload_keys`` lists the keys
    its payload may carry. Registered events are validated, bridged to Socket.IO and
    delivered to ``on_event`` exactly like the built-in ones.

    Return nothing.
    """


@hookspec
def on_event(event_name: str, payload: dict[str, Any], event_id: str, timestamp: str) -> None:
    """React to an event.

    Called for every event published with ``emit_event``, after its payload passed
    validation, in the thread that emitted it: do slow work elsewhere.

    ``event_name`` is the catalog name, ``payload`` a dict holding every payload key of
    the event (missing ones are ``None``; a copy per plugin, so changes stay local),
    ``event_id`` a unique hex id of this emission and ``timestamp`` its ISO-8601 UTC time.

    Return nothing; a return value is ignored.
    """


@hookspec
def weight_keys(score_type: str) -> list[str] | None:
    """Declare weight keys of the plugin's own for subtitle scoring.

    Called when the scorer (re)builds its weight tables (once per cache period) and whenever
    weights are validated (storing them, ``sublarr weights set``, the REST API, presets).

    ``score_type`` is ``"episode"`` or ``"movie"``. Return a list of new keys (lower-case
    names such as ``"uploader_trusted"``: a letter, then letters, digits and ``_``, at most
    64 characters), or ``None`` to declare none. A declared key counts when a result's
    ``matches`` holds it; its weight is 0 until a ``scoring_weights`` hook or the user gives
    it one. Only the defaults' keys and declared keys can be given weights.
    """


@hookspec
def scoring_weights(score_type: str) -> dict[str, int] | None:
    """Supply weight values for subtitle scoring.

    Called when the scorer (re)builds its weight table for ``score_type`` (``"episode"`` or
    ``"movie"``): once per cache period, not once per subtitle.

    Return a dict mapping weight keys to ints in -1000..1000, or ``None`` to leave the
    weights alone. Keys must be the defaults' (``"hash"``, ``"series"``...) or declared by a
    ``weight_keys`` hook; others are ignored. Dicts are merged over the defaults in call
    order; the built-in DB-weights plugin runs last so the user's stored weights win.
    """


@hookspec
def provider_modifiers() -> dict[str, int] | None:
    """Supply fixed score modifiers per provider.

    Called when the scorer (re)builds its tables: once per cache period, never per result.

    Return a dict mapping provider names (as in ``SubtitleResult.provider_name``) to ints in
    -1000..1000, added to the score of every result of that provider, or ``None`` for none.
    Each appears in a score's breakdown as ``provider:<provider name>``. A dict holding a
    bad name or value is reported as a plugin error and ignored as a whole.
    """


@hookspec
def score_modifier(result: Any, query: Any) -> int | None:
    """Adjust the score of one subtitle search result.

    Called by ``compute_score`` / ``score_many`` for every result, after the weighted sum
    and the provider modifiers are added. (A modifier that depends only on the provider is
    better a ``provider_modifiers`` hook: it is read once per cache period.)

    ``result`` is the ``SubtitleResult`` being scored (``provider_name``, ``matches``,
    ``format``...), ``query`` the ``VideoQuery`` it answers. Return an ``int`` to add to
    the score (negative to penalise), or ``None`` for no opinion; the term is named
    ``plugin:<plugin name>``. Anything else is reported as a plugin error and ignored.
    """


@hookspec
def register_commands(cli: Any) -> None:
    """Add commands to the ``sublarr`` command line.

    Called once when the CLI starts. ``cli`` is the root ``click.Group``; add commands
    with ``@cli.command()`` or ``cli.add_command(...)``.

    Return nothing.
    """


@hookspec
def init_app(app: Any, socketio: Any) -> None:
    """Bind the plugin to a host Flask application.

    Called by ``Sublarr(app, socketio)`` / ``Sublarr.init_app(app, socketio)``, once per
    application. ``app`` is the ``flask.Flask`` instance, ``socketio`` the
    ``flask_socketio.SocketIO`` instance or ``None`` when the host has none.

    Return nothing.
    """


@hookspec
def register_settings(register: Any) -> None:
    """Declare the plugin's settings, which users set in the config file, the environment or the API.

    Called once, when the plugin is loaded, before its values are checked.

    ``register(name, type=str, default=None, description="", secret=False)`` declares one
    setting: ``name`` lower case (``api_url``); ``type`` one of ``str``, ``int``,
    ``float``, ``bool``, ``list`` (of texts); ``secret=True`` masks the value wherever it is
    shown. Users set it in a ``[plugins.<plugin name>]`` table of the config file, as
    ``SUBLARR_PLUGIN_<NAME>_<KEY>`` or through ``/api/v1/plugins/<name>/settings``; the
    plugin reads it with ``sublarr.core.plugin_setting(plugin name, name)``.

    Return nothing.
    """
