"""Finds, loads, isolates and lists sublarr plugins.

Plugins are objects or modules with ``@hookimpl`` functions, published through the
``sublarr.plugins`` entry-point group. The built-in plugins use that same group in
sublarr's own distribution and follow the same rules: ``SUBLARR_LOAD_PLUGINS`` and
``SUBLARR_DISABLE_PLUGINS`` apply to every plugin. One plugin manager is *current* per
process; it is created and loaded lazily on first use (``emit_event``, ``compute_score``,
the CLI) or by ``load_plugins()``, and tests swap it with ``set_plugin_manager`` (also in
``sublarr.core.testing``).

Every hook call goes through ``call_implementations``, which isolates each implementation
(an exception or a wrong result type is logged, counted and skipped). A
``DeferredHookError`` (such as ``EventNotStoredError``) is isolated the same way and then
raised to the caller once every implementation ran. Calls are seen by
pluggy's monitoring (``add_hookcall_monitoring``, ``enable_tracing``); with
``SUBLARR_TRACE_PLUGINS=1`` a monitor logs each call with its result and duration.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from operator import itemgetter
from typing import Any, cast

import pluggy

from sublarr.core import hookspecs
from sublarr.core.errors import DeferredHookError, PluginLoadError
from sublarr.core.events import catalog as event_catalog
from sublarr.core.settings import Settings, load_settings
from sublarr.core.settings.plugins import PluginSetting, StoredValues, check_configured, declare

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "sublarr.plugins"
EVENT_FILTER_ATTRIBUTE = "sublarr_only_events"
BUILTIN_DISTRIBUTION = "sublarr"

# Per hook: the type its implementations must return (None is always allowed; None here:
# anything), and the argument each implementation gets a copy of, so changes stay local.
_HOOK_RULES: dict[str, tuple[tuple[type, ...] | None, str | None]] = {
    "weight_keys": ((list, tuple), None),
    "scoring_weights": ((dict,), None),
    "provider_modifiers": ((dict,), None),
    "score_modifier": ((int,), None),
    "on_event": (None, "payload"),
}
_NO_RULES: tuple[None, None] = (None, None)
_NO_BOOL = frozenset({"score_modifier"})
# Generations are unique across plugin managers: equal generation, same manager, same plugins.
_generations = itertools.count(1)


# One plugin's implementation of a hook, ready to call: a plain tuple (tuple subclasses such
# as NamedTuple unpack ~45 ns slower, per implementation and call: bench/score.py 3.) of
#   label       the key its result is stored under (the plugin's name, or a prefixed one)
#   plugin      the plugin's name, for errors
#   function    what to call
#   argnames    its argument names, taken from the call's keyword arguments
#   arity       how many there are
#   pick        an itemgetter of argnames when there are more than two, else None
#   hookimpl    pluggy's HookImpl, for calls through pluggy's monitoring
Implementation = tuple[
    str,
    str,
    Callable[..., Any],
    tuple[str, ...],
    int,
    Callable[[Mapping[str, Any]], tuple[Any, ...]] | None,
    Any,
]


def _implementation(impl: pluggy.HookImpl, label_prefix: str) -> Implementation:
    names = tuple(impl.argnames)
    # itemgetter: ~0.25 us per call cheaper than a list comprehension, for the 4-argument
    # on_event of script_hooks and webhooks: 6 % of an emit_event (bench/delivery.py 1.)
    pick = itemgetter(*names) if len(names) > 2 else None
    return (
        f"{label_prefix}{impl.plugin_name}",
        impl.plugin_name,
        impl.function,
        names,
        len(names),
        pick,
        impl,
    )


@dataclass
class PluginInfo:
    """What is known about one plugin, loaded or not."""

    name: str
    distribution: str | None = None
    version: str | None = None
    builtin: bool = False
    status: str = "loaded"  # loaded | disabled | not enabled | failed
    error: str | None = None
    hooks: list[str] = field(default_factory=list)

    def as_dict(self, errors: int = 0, last_error: str | None = None) -> dict[str, Any]:
        """JSON-ready record, with the runtime error count."""
        return {
            "name": self.name,
            "version": self.version,
            "distribution": self.distribution,
            "builtin": self.builtin,
            "status": self.status,
            "hooks": list(self.hooks),
            "errors": errors,
            "last_error": last_error or self.error,
        }


class SublarrPluginManager(pluggy.PluginManager):
    """A pluggy manager that isolates each hook implementation and keeps per-plugin stats."""

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.settings = settings if settings is not None else load_settings()
        self.infos: dict[str, PluginInfo] = {}
        self.error_counts: Counter[str] = Counter()
        self.last_errors: dict[str, str] = {}
        self.plugin_events: dict[str, dict[str, Any]] = {}
        # Settings each loaded plugin declared (register_settings), and the API-stored values read.
        self.declared_settings: dict[str, dict[str, PluginSetting]] = {}
        self.stored_settings = StoredValues()
        self.generation = next(_generations)
        self._impl_cache: dict[tuple[str, str], tuple[Implementation, ...]] = {}
        self._event_impl_cache: dict[str, tuple[Implementation, ...]] = {}
        self._lock = threading.RLock()
        self._monitors = 0
        self._trace_started = threading.local()
        self.entry_points_loaded = False
        if self.settings.trace_plugins:
            self.add_hookcall_monitoring(self._trace_before, self._trace_after)

    # -- registration -----------------------------------------------------------------

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin``; raise ``PluginLoadError`` (plugin not registered) on bad hooks."""
        label = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        with self._lock:
            try:
                registered = super().register(plugin, name)
            except pluggy.PluginValidationError as exc:
                raise PluginLoadError(label, str(exc)) from None
            except ValueError as exc:
                raise PluginLoadError(label, str(exc)) from None
            if registered is None:  # blocked
                return None
            try:
                self._check_hooks(plugin, registered)
                self._register_plugin_events(plugin, registered)
                self._register_plugin_settings(plugin, registered)
            except PluginLoadError:
                self._drop_plugin_events(registered)
                self._unregister_quietly(plugin)
                raise
            info = self.infos.get(registered) or PluginInfo(name=registered)
            info.status, info.error = "loaded", None
            info.hooks = self.hooks_of(plugin)
            self.infos[registered] = info
            self._changed()
            return registered

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any:
        """Unregister a plugin and drop the events it registered."""
        with self._lock:
            name = name or (self.get_name(plugin) if plugin is not None else None)
            result = super().unregister(plugin=plugin, name=name)
            self._drop_plugin_events(name)
            self.declared_settings.pop(name or "", None)
            if name in self.infos and self.infos[name].status == "loaded":
                del self.infos[name]
            self._changed()
            return result

    def _drop_plugin_events(self, name: str | None) -> None:
        for event in [e for e, entry in self.plugin_events.items() if entry["source"] == name]:
            del self.plugin_events[event]
            if event_catalog.EVENT_CATALOG.get(event, {}).get("source") == name:
                del event_catalog.EVENT_CATALOG[event]

    def _unregister_quietly(self, plugin: object) -> None:
        with contextlib.suppress(ValueError):
            super().unregister(plugin=plugin)

    def _changed(self) -> None:
        self.generation = next(_generations)
        self._impl_cache.clear()
        self._event_impl_cache.clear()

    def hooks_of(self, plugin: object) -> list[str]:
        """Names of the hooks ``plugin`` implements."""
        callers = self.get_hookcallers(plugin) or []
        return sorted(caller.name for caller in callers)

    def _check_hooks(self, plugin: object, name: str) -> None:
        for caller in self.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                if not caller.has_spec() and not impl.optionalhook:
                    raise PluginLoadError(
                        name,
                        f"implements unknown hook {caller.name!r} "
                        f"(known hooks: {', '.join(sorted(self.hookspec_names()))})",
                    )
                if impl.hookwrapper or getattr(impl, "wrapper", False):
                    raise PluginLoadError(name, f"hook wrappers are not supported ({caller.name})")

    def hookspec_names(self) -> list[str]:
        """Names of every hook a plugin may implement."""
        return sorted(n for n in dir(hookspecs) if hasattr(getattr(hookspecs, n), "sublarr_spec"))

    def _register_plugin_events(self, plugin: object, name: str) -> None:
        impls = [i for i in self.hook.register_events.get_hookimpls() if i.plugin is plugin]
        for impl in impls:

            def register(event: str, label: str, description: str = "", payload_keys: Any = ()) -> None:
                entry = event_catalog.register_event(event, label, description, payload_keys, source=name)
                self.plugin_events[event] = entry

            try:
                self._hookexec("register_events", [impl], {"register": register}, False)
            except PluginLoadError:
                raise
            except Exception as exc:  # any plugin error becomes a load error
                raise PluginLoadError(name, f"register_events raised {exc!r}") from exc

    def _register_plugin_settings(self, plugin: object, name: str) -> None:
        impls = [i for i in self.hook.register_settings.get_hookimpls() if i.plugin is plugin]
        declared: dict[str, PluginSetting] = {}

        def register(
            key: Any,
            type: Any = str,  # noqa: A002 - the word plugin authors use
            default: Any = None,
            description: str = "",
            secret: bool = False,
        ) -> None:
            setting = declare(name, key, type, default, description, secret)
            if setting.name in declared:
                raise ValueError(f"setting {setting.name!r} is declared twice")
            declared[setting.name] = setting

        for impl in impls:
            try:
                self._hookexec("register_settings", [impl], {"register": register}, False)
            except Exception as exc:  # any plugin error becomes a load error
                detail = str(exc) if isinstance(exc, ValueError) else repr(exc)
                raise PluginLoadError(name, f"register_settings: {detail}") from exc
        if declared:
            self.declared_settings[name] = declared

    def check_plugin_settings(self, settings: Settings | None = None) -> None:
        """Raise ``SettingsError`` (naming plugin and key) for a plugin setting value in the config
        file or the environment of ``settings`` (default: this manager's) that cannot be used."""
        check_configured(self.declared_settings, settings if settings is not None else self.settings)

    def unused_plugin_values(self, settings: Settings | None = None) -> list[str]:
        """``SUBLARR_PLUGIN_*`` keys and ``[plugins.<name>]`` tables of ``settings`` that set
        nothing: no loaded plugin declares them (a typo, or a plugin not loaded now)."""
        settings = settings if settings is not None else self.settings
        known = {s.env_key for declared in self.declared_settings.values() for s in declared.values()}
        unused = [key for key in sorted(settings.plugin_vars) if key not in known]
        unused += [
            f"[plugins.{name}]"
            for name in sorted(settings.plugin_tables)
            if name not in self.declared_settings
        ]
        return unused

    def activate_events(self) -> None:
        """Make the global catalog hold the built-ins plus this manager's plugin events."""
        event_catalog.reset_catalog()
        event_catalog.EVENT_CATALOG.update(self.plugin_events)

    # -- entry points -------------------------------------------------------------------

    def load_entry_points(self) -> None:
        """Load every plugin of the ``sublarr.plugins`` group that the settings allow."""
        with self._lock:
            if self.entry_points_loaded:
                return
            self.entry_points_loaded = True
            for ep in _entry_points():
                self._load_entry_point(ep)

    def _load_entry_point(self, ep: metadata.EntryPoint) -> None:
        dist = getattr(ep, "dist", None)
        info = PluginInfo(
            name=ep.name,
            distribution=dist.metadata["Name"] if dist is not None else None,
            version=dist.version if dist is not None else None,
            builtin=_is_builtin(ep),
        )
        if self.has_plugin(ep.name):
            if self.infos.get(ep.name, info).distribution != info.distribution:
                logger.error(
                    "plugin %r of %s not loaded: that name is already taken",
                    ep.name,
                    info.distribution,
                )
            return
        status = self._status_by_settings(ep.name, info.distribution)
        if status is not None:
            info.status = status
            self.infos[ep.name] = info
            return
        self.infos[ep.name] = info
        try:
            plugin = ep.load()
            self.register(plugin, name=ep.name)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not take the host down
            reason = exc.reason if isinstance(exc, PluginLoadError) else f"{exc!r}"
            info.status, info.error = "failed", reason
            self.error_counts[ep.name] += 1
            logger.error("plugin %r failed to load: %s", ep.name, reason)

    def _status_by_settings(self, name: str, distribution: str | None) -> str | None:
        """``"disabled"`` / ``"not enabled"`` when the settings keep a plugin out, else ``None``.

        A plugin is named by its entry-point name or its distribution's (``sublarr`` names
        every built-in); the same rules hold for built-in and third-party plugins.
        """
        wanted = {name.lower(), (distribution or "").lower()} - {""}
        if wanted & {n.lower() for n in self.settings.disable_plugins}:
            return "disabled"
        load = self.settings.load_plugins
        if load is not None and not wanted & {n.lower() for n in load}:
            return "not enabled"
        return None

    # -- calling hooks --------------------------------------------------------------------

    def implementations(self, hook_name: str, label_prefix: str = "") -> tuple[Implementation, ...]:
        """The implementations of a hook, in call order (cached until plugins change).

        Their results are stored under ``label_prefix`` + the plugin's name.
        """
        key = (hook_name, label_prefix)
        cached = self._impl_cache.get(key)
        if cached is None:
            caller = getattr(self.hook, hook_name)
            cached = tuple(_implementation(impl, label_prefix) for impl in reversed(caller.get_hookimpls()))
            self._impl_cache[key] = cached
        return cached

    def event_implementations(self, event_name: str) -> tuple[Implementation, ...]:
        """The ``on_event`` implementations that want ``event_name``, in call order, cached.

        An implementation decorated with ``@only_events(...)`` is left out for other events.
        """
        cached = self._event_impl_cache.get(event_name)
        if cached is None:
            cached = tuple(
                impl
                for impl in self.implementations("on_event")
                if event_name in getattr(impl[2], EVENT_FILTER_ATTRIBUTE, (event_name,))
            )
            self._event_impl_cache[event_name] = cached
        return cached

    def call_hook(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation of ``hook_name``, isolated; ``(plugin, result)`` for non-None results."""
        return list(self.call_implementations(hook_name, self.implementations(hook_name), kwargs).items())

    def call_implementations(
        self,
        hook_name: str,
        implementations: Sequence[Implementation],
        kwargs: dict[str, Any],
        into: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Call each of ``implementations`` of ``hook_name`` with its arguments from ``kwargs``.

        The one way sublarr calls plugins. Each implementation is isolated: one that raises
        or returns a value of the wrong type is logged, counted in ``error_counts`` and
        skipped. Every acceptable non-None result is stored in ``into`` (a new dict when
        ``None``) under the implementation's label, in call order; ``into`` is returned.
        A ``DeferredHookError`` is logged and counted too, the remaining implementations
        still run, and then the first one raised is raised to the caller. With monitoring
        installed (``add_hookcall_monitoring``, ``enable_tracing``, ``SUBLARR_TRACE_PLUGINS``)
        each call goes through pluggy's ``_hookexec`` so the monitors see it; otherwise the
        function is called directly.
        """
        results: dict[str, Any] = {} if into is None else into
        expected, copied = _HOOK_RULES.get(hook_name, _NO_RULES)
        original: Any = kwargs[copied] if copied else None
        monitored = self._monitors
        deferred: DeferredHookError | None = None
        for label, plugin_name, function, names, arity, pick, impl in implementations:
            if copied:
                kwargs[copied] = dict(original)
            try:
                if monitored:
                    # firstresult=False: pluggy returns a list (typed as object | list[object])
                    outcome = cast("list[Any]", self._hookexec(hook_name, [impl], kwargs, False))
                    result = outcome[0] if outcome else None
                # Direct calls, not f(*args): ~0.15 us less per call of a bound method, a third
                # of what a score_modifier plugin costs per result (bench/score.py 3.).
                elif arity == 2:
                    result = function(kwargs[names[0]], kwargs[names[1]])
                elif arity == 1:
                    result = function(kwargs[names[0]])
                elif arity:
                    result = function(*pick(kwargs))  # type: ignore[misc]  # pick is set when arity > 2
                else:
                    result = function()
            except DeferredHookError as exc:  # the caller must learn of it, after the others ran
                self.record_error(plugin_name, hook_name, f"raised {exc!r}")
                deferred = deferred or exc
                continue
            except Exception as exc:  # noqa: BLE001 - isolate the plugin
                self.record_error(plugin_name, hook_name, f"raised {exc!r}", exc_info=exc)
                continue
            if result is None:
                continue
            if expected and type(result) not in expected and _wrong_type(hook_name, result, expected):
                self.record_error(
                    plugin_name,
                    hook_name,
                    f"returned {type(result).__name__} {result!r}, expected "
                    f"{' or '.join(t.__name__ for t in expected)} or None",
                )
                continue
            results[label] = result
        if deferred is not None:
            raise deferred
        return results

    # -- monitoring -------------------------------------------------------------------------

    def add_hookcall_monitoring(
        self, before: Callable[..., None], after: Callable[..., None]
    ) -> Callable[[], None]:
        """pluggy's monitoring, extended to every call sublarr makes; returns the undo function."""
        undo = super().add_hookcall_monitoring(before, after)
        with self._lock:
            self._monitors += 1
        removed = False

        def remove() -> None:
            nonlocal removed
            with self._lock:
                if removed:
                    return
                removed = True
                self._monitors -= 1
            undo()

        return remove

    def _trace_before(
        self, hook_name: str, methods: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]
    ) -> None:
        stack = getattr(self._trace_started, "stack", None)
        if stack is None:
            stack = self._trace_started.stack = []
        stack.append(time.perf_counter())

    def _trace_after(
        self,
        outcome: pluggy.Result[Any],
        hook_name: str,
        methods: Sequence[pluggy.HookImpl],
        kwargs: Mapping[str, Any],
    ) -> None:
        elapsed = (time.perf_counter() - self._trace_started.stack.pop()) * 1000
        plugins = ",".join(m.plugin_name for m in methods)
        argnames = ", ".join(methods[0].argnames if len(methods) == 1 else kwargs)
        if outcome.exception is not None:
            logger.info(
                "hook %s.%s(%s) raised %r in %.3f ms",
                plugins,
                hook_name,
                argnames,
                outcome.exception,
                elapsed,
            )
            return
        result = outcome.get_result()
        if len(methods) == 1:
            result = result[0] if result else None
        logger.info("hook %s.%s(%s) -> %r in %.3f ms", plugins, hook_name, argnames, result, elapsed)

    def record_error(
        self, plugin_name: str, hook_name: str, message: str, exc_info: BaseException | None = None
    ) -> None:
        """Count and log a failure of ``plugin_name`` in ``hook_name``."""
        self.error_counts[plugin_name] += 1
        self.last_errors[plugin_name] = f"{hook_name}: {message}"
        logger.error("plugin %r failed in %s: %s", plugin_name, hook_name, message, exc_info=exc_info)

    # -- listing --------------------------------------------------------------------------

    def list_plugins(self, include_builtin: bool = True) -> list[dict[str, Any]]:
        """Every known plugin (loaded, disabled, not enabled, failed) as JSON-ready dicts."""
        infos = dict(self.infos)
        for name, plugin in self.list_name_plugin():
            if name not in infos and plugin is not None:
                infos[name] = PluginInfo(name=name, hooks=self.hooks_of(plugin))
        rows = [
            info.as_dict(self.error_counts.get(name, 0), self.last_errors.get(name))
            for name, info in sorted(infos.items())
            if include_builtin or not info.builtin
        ]
        return rows

    def load_problems(self) -> list[str]:
        """What kept wanted plugins out: one line per plugin that failed to load, and per name in
        ``SUBLARR_LOAD_PLUGINS`` that no installed plugin (nor distribution) has."""
        problems = [
            f"plugin {name!r} failed to load: {info.error}"
            for name, info in sorted(self.infos.items())
            if info.status == "failed"
        ]
        known = {n.lower() for info in self.infos.values() for n in (info.name, info.distribution) if n}
        for wanted in self.settings.load_plugins or ():
            if wanted.lower() not in known:
                problems.append(f"plugin {wanted!r} is named in SUBLARR_LOAD_PLUGINS but not installed")
        return problems


def _wrong_type(hook_name: str, result: Any, expected: tuple[type, ...]) -> bool:
    """True when ``result`` is not what ``hook_name`` must return (``bool`` is no ``int`` here)."""
    return not isinstance(result, expected) or (hook_name in _NO_BOOL and isinstance(result, bool))


def _entry_points() -> Iterator[metadata.EntryPoint]:
    seen: set[tuple[str, str]] = set()
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        key = (ep.name, ep.value)
        if key not in seen:  # a package can be visible twice on sys.path
            seen.add(key)
            yield ep


def _is_builtin(ep: metadata.EntryPoint) -> bool:
    dist = getattr(ep, "dist", None)
    name = dist.metadata["Name"] if dist is not None else ""
    return (name or "").lower() == BUILTIN_DISTRIBUTION


def only_events(*event_names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark an ``on_event`` implementation as wanting only ``event_names``.

    ``emit_event`` then skips the call for every other event, which keeps plugins that
    react to one or two events off the path of all the others.
    """
    if not event_names or not all(isinstance(n, str) and n for n in event_names):
        raise ValueError("only_events() needs one or more event names")

    def mark(function: Callable[..., Any]) -> Callable[..., Any]:
        setattr(function, EVENT_FILTER_ATTRIBUTE, frozenset(event_names))
        return function

    return mark


# -- the current plugin manager -------------------------------------------------------------

_current: SublarrPluginManager | None = None
_current_lock = threading.Lock()


def get_plugin_manager() -> SublarrPluginManager:
    """The current plugin manager, created and loaded from entry points on first use."""
    pm = _current
    if pm is not None:
        return pm
    return load_plugins()


def load_plugins(settings: Settings | None = None) -> SublarrPluginManager:
    """Create (once) the current plugin manager and load the allowed entry-point plugins."""
    global _current
    with _current_lock:
        if _current is None:
            pm = SublarrPluginManager(settings)
            _current = pm
            pm.activate_events()
        pm = _current
    pm.load_entry_points()
    return pm


def set_plugin_manager(pm: SublarrPluginManager | None) -> SublarrPluginManager | None:
    """Make ``pm`` current (``None``: the next use loads afresh); return the previous one."""
    global _current
    with _current_lock:
        previous, _current = _current, pm
    if pm is not None:
        pm.activate_events()
    else:
        event_catalog.reset_catalog()
    return previous


def reset_plugin_manager() -> None:
    """Forget the current plugin manager and plugin events (tests, reloads)."""
    set_plugin_manager(None)
