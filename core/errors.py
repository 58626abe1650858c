"""Exceptions raised by sublarr, one per kind of bad input."""

from __future__ import annotations


class SublarrError(Exception):
    """Base class of every error sublarr raises on purpose."""


class UnknownEventError(SublarrError, KeyError):
    """An event name that is not in the event catalog."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(name)

    def __str__(self) -> str:
        return f"unknown event {self.name!r}: see `sublarr events` for the catalog"


class InvalidPayloadError(SublarrError, ValueError):
    """An event payload that breaks the catalog's rules; ``key`` names the culprit."""

    def __init__(self, event_name: str, key: str | None, reason: str) -> None:
        self.event_name = event_name
        self.key = key
        self.reason = reason
        where = f"key {key!r}" if key is not None else "payload"
        super().__init__(f"invalid payload for event {event_name!r}: {where}: {reason}")


class EventRegistrationError(SublarrError, ValueError):
    """A plugin tried to register an event the catalog cannot take."""


class PluginLoadError(SublarrError):
    """A plugin that could not be loaded; ``plugin`` names it."""

    def __init__(self, plugin: str, reason: str) -> None:
        self.plugin = plugin
        self.reason = reason
        super().__init__(f"plugin {plugin!r} failed to load: {reason}")


class ValidationError(SublarrError, ValueError):
    """Bad input to a storage or scoring function; ``field`` names the culprit.

    Raised before anything is written: the database is left unchanged.
    """

    def __init__(self, field: str | None, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)


class NotFoundError(SublarrError, LookupError):
    """A hook, webhook or other stored record that does not exist."""


class ConflictError(SublarrError):
    """A request that clashes with what is stored (the REST API answers 409); nothing changed."""


class StorageError(SublarrError):
    """The configured storage (data dir, database) cannot be used; the message says why."""


class DatabaseFileLostError(StorageError):
    """The embedded SQLite file was deleted or replaced while sublarr runs: writes are refused.

    Its message names no path (it may be shown to anyone, as ``/api/v1/health`` does).
    """


class DeferredHookError(SublarrError):
    """Raised by a hook implementation for a failure the hook's caller must learn of.

    The plugin manager still isolates it like any other exception (logged, counted, and the
    remaining implementations run), then raises the first one to the caller once every
    implementation ran. ``EventNotStoredError`` is one.
    """


class EventNotStoredError(DeferredHookError, StorageError):
    """An event whose hook and webhook deliveries could not be stored: they will not run.

    ``emit_event`` raises it after every receiver and plugin saw the event (Socket.IO
    clients got it); the REST API answers 503. ``reason`` says why storage refused (for
    example ``database or disk is full``), ``event_name`` and ``event_id`` name the event.
    """

    def __init__(self, event_name: str, event_id: str, reason: str) -> None:
        self.event_name = event_name
        self.event_id = event_id
        self.reason = reason
        super().__init__(
            f"event {event_name!r} ({event_id}) was not stored: the delivery queue cannot be "
            f"written ({reason}); its hooks and webhooks will not run"
        )
