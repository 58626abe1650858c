"""Sending one notification through Apprise, with its URL's credentials kept out of every text.

An Apprise URL (``discord://id/token``, ``tgram://bottoken/chat``, ``ntfys://host/topic``,
``json://host:port/path``...) carries its credentials, so it is treated as a secret:

* ``mask_apprise_url`` is what responses and logs show: ``discord://****``.
* ``check_apprise_url`` refuses a URL Apprise cannot load (``ValidationError`` naming
  ``url``, the URL itself not quoted) and, for the schemes that post to a host the user
  names (``json``, ``form``, ``xml`` and their ``s`` variants), a host in the webhook
  deny-list (``UrlRefusedError``).
* Errors Apprise reports while sending become the attempt's ``error`` with every part of
  the URL (user, password, host, path segments, query values) replaced by ``***``; the
  messages Apprise logs while a URL is being sent are redacted the same way before any
  log handler sees them (a filter on the ``apprise`` logger).
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sublarr.core.delivery.url_policy import UrlPolicy
from sublarr.core.delivery.webhook_sender import redact
from sublarr.core.errors import ValidationError

logger = logging.getLogger(__name__)

URL_MASK = "****"
CUSTOM_HOST_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})
_SEPARATORS = re.compile(r"[/:@?&=#,]+")
_MIN_SECRET_CHARS = 3


def url_scheme(url: str) -> str:
    """The scheme of an Apprise URL, lower-cased (``""`` when it has none)."""
    scheme, sep, _ = url.partition("://")
    return scheme.lower() if sep and scheme.isascii() and scheme.replace("+", "").isalnum() else ""


def mask_apprise_url(url: str | None) -> str:
    """What may be shown of an Apprise URL: its scheme, the rest ``****``."""
    scheme = url_scheme(url or "")
    return f"{scheme}://{URL_MASK}" if scheme else URL_MASK


def url_secrets(url: str) -> list[str]:
    """Every part of ``url`` after its scheme (longest first): what redaction replaces."""
    rest = url.partition("://")[2]
    parts = {part for part in _SEPARATORS.split(rest) if len(part) >= _MIN_SECRET_CHARS}
    if rest:
        parts.add(rest)
    parts.add(url)
    return sorted(parts, key=len, reverse=True)


def redact_url(text: str, url: str) -> str:
    """``text`` with every part of ``url`` replaced by ``***``."""
    return redact(text, url_secrets(url)) if text else text


class _InFlight(logging.Filter):
    """Redacts the URLs being sent from every record of the ``apprise`` logger."""

    def __init__(self) -> None:
        super().__init__()
        self._urls: dict[int, str] = {}
        self._lock = threading.Lock()
        self._keys = itertools.count()

    def add(self, url: str) -> int:
        with self._lock:
            key = next(self._keys)
            self._urls[key] = url
        return key

    def remove(self, key: int) -> None:
        with self._lock:
            self._urls.pop(key, None)

    def filter(self, record: logging.LogRecord) -> bool:
        urls = list(self._urls.values())
        if urls:
            text = record.getMessage()
            for url in urls:
                text = redact_url(text, url)
            record.msg, record.args = text, None
        return True


_in_flight = _InFlight()
_installed = False
_install_lock = threading.Lock()


def _install_filter() -> None:
    global _installed
    with _install_lock:
        if not _installed:
            for name in ("apprise", "urllib3.connectionpool"):  # the latter logs request paths
                logging.getLogger(name).addFilter(_in_flight)
            _installed = True


def _asset() -> Any:
    """Apprise settings for sending on the calling thread: no worker threads, no deadline threads.

    The delivery workers are OS threads (under gevent's patching in the server): Apprise's own
    thread pools there would be greenlets of another thread's hub. The plugin's socket
    timeouts bound a send instead.
    """
    import apprise

    return apprise.AppriseAsset(async_mode=False, service_timeout=0)


def _load(url: str) -> Any:
    """The Apprise plugin object of ``url``, or ``None`` when Apprise cannot load it."""
    import apprise

    return apprise.Apprise.instantiate(url, asset=_asset(), suppress_exceptions=True)


def check_apprise_url(url: Any, deny_networks: tuple[str, ...] | list[str] = ()) -> str:
    """``url`` if Apprise can load it (and its custom host is allowed); else an error naming ``url``."""
    if not isinstance(url, str) or not url.strip():
        raise ValidationError("url", "must be an Apprise URL such as discord://... or json://host/path")
    if len(url) > 2048:
        raise ValidationError("url", "is longer than 2048 characters")
    scheme = url_scheme(url)
    if not scheme:
        raise ValidationError("url", "must be an Apprise URL (scheme://...)")
    _install_filter()
    key = _in_flight.add(url)
    try:
        plugin = _load(url)
    finally:
        _in_flight.remove(key)
    if plugin is None:
        raise ValidationError(
            "url", f"Apprise cannot use this {scheme}:// URL (unknown service or missing parts)"
        )
    if scheme in CUSTOM_HOST_SCHEMES:
        try:
            parts = urlsplit(url)
            host, port = parts.hostname or "", parts.port
        except ValueError:
            raise ValidationError("url", "the host or port of the URL is not valid") from None
        http = "https" if scheme.endswith("s") else "http"
        UrlPolicy.from_strings(deny_networks).check_url(f"{http}://{host}{f':{port}' if port else ''}/")
    return url


@dataclass
class NotificationResult:
    """The outcome of one Apprise send."""

    success: bool
    duration_ms: float
    error: str = ""


class NotificationSender:
    """Sends notifications through Apprise; one attempt per call, never raising for a failed send."""

    def send(self, *, url: str, title: str, body: str, timeout: float) -> NotificationResult:
        """Send ``title``/``body`` to the Apprise ``url`` once, within about ``timeout`` seconds."""
        import apprise

        _install_filter()
        started = time.monotonic()
        messages: list[str] = []

        def collect(entry: Any, service: Any = None) -> None:
            if getattr(entry, "level", "") in ("WARNING", "ERROR", "CRITICAL"):
                messages.append(str(getattr(entry, "message", entry)))

        key = _in_flight.add(url)
        try:
            plugin = _load(url)
            if plugin is None:
                return NotificationResult(False, _ms(started), "Apprise cannot load the URL")
            plugin.socket_connect_timeout = min(float(timeout), 30.0)
            plugin.socket_read_timeout = float(timeout)
            sender = apprise.Apprise(asset=plugin.asset)
            sender.add(plugin)
            result = sender.notify(body=body or " ", title=title, log_callback=collect)
            ok = bool(result)
        except Exception as exc:  # noqa: BLE001 - a plugin raising is a failed attempt like any other
            ok = False
            messages.append(f"{type(exc).__name__}: {exc}")
        finally:
            _in_flight.remove(key)
        if ok:
            return NotificationResult(True, _ms(started))
        error = "; ".join(dict.fromkeys(messages)) or "Apprise could not deliver the notification"
        return NotificationResult(False, _ms(started), redact_url(error, url)[:2000])


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
