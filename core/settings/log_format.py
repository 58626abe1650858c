"""One log format for sublarr's own lines and Gunicorn's: ``<time> <LEVEL> <logger>: <message>``.

Control characters in a record are written escaped (``\\n``, ``\\x1b``, ...), so a value
that came from outside (a Sonarr ``eventType``, a plugin name) cannot start a line of its
own and forge a record. Tracebacks keep their lines, each indented under the record.

``logging_to_stderr(level)`` sets up the root logger while a ``sublarr`` command runs;
``gunicorn_logconfig(level)`` is the same set-up as Gunicorn's ``logconfig_dict``.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
TRACEBACK_INDENT = "    "

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_CONTROL = {code: _NAMED.get(chr(code), f"\\x{code:02x}") for code in (*range(0x20), *range(0x7F, 0xA0))}
_CONTROL.update({0x2028: "\\u2028", 0x2029: "\\u2029"})


def escape_control(text: str) -> str:
    """``text`` with every control character (and Unicode line separator) written as an escape."""
    return text.translate(_CONTROL)


def _indented(text: str) -> str:
    return "\n".join(TRACEBACK_INDENT + escape_control(line) for line in text.split("\n"))


class LogFormatter(logging.Formatter):
    """``FORMAT`` with control characters escaped; tracebacks indented below the record."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, **kwargs: Any) -> None:
        super().__init__(fmt or FORMAT, datefmt or DATE_FORMAT, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        # Not logging.Formatter.format: it would reuse a traceback another handler cached
        # on the record (unindented) and cache ours for the others.
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        text = self.formatMessage(record)
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        elif record.exc_text:
            text += "\n" + _indented(record.exc_text)
        if record.stack_info:
            text += "\n" + self.formatStack(record.stack_info)
        return text

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        return escape_control(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return _indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return _indented(super().formatStack(stack_info))


def level_number(level: str) -> int:
    """The ``logging`` number of a level name (``debug`` ... ``critical``)."""
    number = logging.getLevelName(level.upper())
    return number if isinstance(number, int) else logging.WARNING


if TYPE_CHECKING:
    _StreamHandler = logging.StreamHandler[TextIO]
else:  # not subscriptable at run time before Python 3.11
    _StreamHandler = logging.StreamHandler


class StderrHandler(_StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (a test runner may swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(LogFormatter())

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


@contextmanager
def logging_to_stderr(level: str) -> Iterator[None]:
    """Log to stderr at ``level`` in ``LogFormatter``'s format while the block runs.

    Nested blocks only change the level; the outermost one removes the handler and puts
    the previous levels back.
    """
    root = logging.getLogger()
    alembic = logging.getLogger("alembic")
    saved = (root.level, alembic.level)
    handler = next((h for h in root.handlers if isinstance(h, StderrHandler)), None)
    added = handler is None
    if handler is None:
        handler = StderrHandler()
        root.addHandler(handler)
    root.setLevel(level_number(level))
    # Alembic says "Context impl SQLiteImpl" on every start: only its warnings are news.
    alembic.setLevel(max(logging.WARNING, level_number(level)))
    try:
        yield
    finally:
        if added:
            root.removeHandler(handler)
        root.setLevel(saved[0])
        alembic.setLevel(saved[1])


def log_uncaught_exceptions() -> None:
    """Route what Python would print raw to stderr - warnings, a thread's uncaught exception -
    through logging, so a long-running process (the server) writes one format only."""
    logging.captureWarnings(True)

    def excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "?"
        logging.getLogger("sublarr.uncaught").error(
            "uncaught exception in thread %s", name, exc_info=args.exc_value
        )

    threading.excepthook = excepthook


def gunicorn_logconfig(level: str) -> dict[str, Any]:
    """Gunicorn's ``logconfig_dict``: its error log and sublarr's lines through one ``LogFormatter``."""
    name = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"sublarr": {"()": f"{__name__}.LogFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "sublarr",
                "stream": "ext://sys.stderr",
            },
            "nowhere": {"class": "logging.NullHandler"},
        },
        "root": {"level": name, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": name, "handlers": [], "propagate": True},
            # No access log: request lines carry `?apikey=` (Gunicorn turns it on with a logconfig_dict).
            "gunicorn.access": {"level": "CRITICAL", "handlers": ["nowhere"], "propagate": False},
            "alembic": {"level": max(logging.WARNING, level_number(level))},
        },
    }
