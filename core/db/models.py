"""The five tables of the events/hooks/scoring plan, as SQLAlchemy 2 typed models.

Columns, nullability, defaults and indexes follow the plan (Phase 07, plan 01, Task 2):

* ``hook_configs`` - script hooks, one row per (script, event) subscription.
* ``webhook_configs`` - outgoing webhooks; ``event_name`` may be ``*`` for every event.
* ``hook_log`` - one row per hook or webhook execution.
* ``scoring_weights`` - per score type overrides of the default weights,
  UNIQUE(score_type, weight_key).
* ``provider_score_modifiers`` - a bonus/malus per subtitle provider.

Design choices, portable across SQLite and PostgreSQL:

* Timestamps are ISO-8601 UTC text (``2025-01-31T12:00:00.123456+00:00``), filled in
  Python by ``utcnow_iso`` - fixed width, so text order is time order. The server default
  is ``CURRENT_TIMESTAMP`` (a standard SQL default that both databases accept for a text
  column) and only matters to rows inserted by hand.
* ``enabled`` and ``success`` are INTEGER 0/1 columns as the plan says; ``as_dict``
  returns them as ``bool``.
* Every default exists twice: in Python (so returned records are complete without a
  re-read) and as a server default (so the schema matches the plan).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, ClassVar

from sqlalchemy import (
    REAL,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# REAL as the plan says; on PostgreSQL REAL is single precision, so use a double there.
DurationType: TypeEngine[float] = REAL().with_variant(DOUBLE_PRECISION(), "postgresql")

_NOW = text("CURRENT_TIMESTAMP")


def utcnow_iso() -> str:
    """The current UTC time as fixed-width ISO-8601 text, as every timestamp is stored."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class Base(DeclarativeBase):
    """Declarative base of sublarr's tables, with a constraint naming convention for Alembic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every model is mapped to one Table (no mapping to a join or a select), so say so:
    # insert()/update() and .c take the Table as is.
    __table__: ClassVar[Table]

    _bool_columns: ClassVar[frozenset[str]] = frozenset()

    def as_dict(self) -> dict[str, Any]:
        """Every column as a plain dict; 0/1 flag columns become ``bool``."""
        out: dict[str, Any] = {}
        for column in self.__table__.columns:
            value = getattr(self, column.key)
            if column.key in self._bool_columns and value is not None:
                value = bool(value)
            out[column.key] = value
        return out


class HookConfig(Base):
    """A script hook: run ``script_path`` when ``event_name`` is emitted."""

    __tablename__ = "hook_configs"
    __table_args__ = (
        Index("ix_hook_configs_event_name", "event_name"),
        {"sqlite_autoincrement": True},
    )
    _bool_columns = frozenset({"enabled"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    event_name: Mapped[str] = mapped_column(Text, nullable=False)
    hook_type: Mapped[str | None] = mapped_column(Text, default="script", server_default=text("'script'"))
    enabled: Mapped[int | None] = mapped_column(Integer, default=1, server_default=text("1"))
    script_path: Mapped[str | None] = mapped_column(Text, default="", server_default=text("''"))
    timeout_seconds: Mapped[int | None] = mapped_column(Integer, default=30, server_default=text("30"))
    last_triggered_at: Mapped[str | None] = mapped_column(Text, default="", server_default=text("''"))
    last_status: Mapped[str | None] = mapped_column(Text, default="", server_default=text("''"))
    trigger_count: Mapped[int | None] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[str] = mapped_column(Text, nullable=False, default=utcnow_iso, server_default=_NOW)
    updated_at: Mapped[str] = mapped_column(Text, nullable=False, default=utcnow_iso, server_default=_NOW)


class WebhookConfig(Base):
    """An outgoing webhook: POST to ``url`` when ``event_name`` (or any event, ``*``) is emitted."""

    __tablename__ = "webhook_configs"
    __table_args__ = (
        Index("ix_webhook_configs_event_name", "event_name"),
        {"sqlite_autoincrement": True},
    )
    _bool_columns = frozenset({"enabled"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    event_name: Mapped[str] = mapped_column(Text, nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    secret: Mapped[str | None] = mapped_column(Text, default="", server_default=text("''"))
    enabled: Mapped[int | None] = mapped_column(Integer, default=1, server_default=text("1"))
    retry_count: Mapped[int | None] = mapped_column(Integer, default=3, server_default=text("3"))
    timeout_seconds: Mapped[int | None] = mapped_column(Integer, default=10, server_default=text("10"))
    last_triggered_at: Mapped[str | None] = mapped_column(Text, default="", server_default=text("''"))
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text, default="", server_default=text("''"))
    consecutive_failures: Mapped[int | None] = mapped_column(Integer, default=0, server_default=text("0"))
    trigger_count: Mapped[int | None] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[str] = mapped_column(Text, nullable=False, default=utcnow_iso, server_default=_NOW)
    updated_at: Mapped[str] = mapped_column(Text, nullable=False, default=utcnow_iso, server_default=_NOW)


class HookLog(Base):
    """One execution of a script hook (``hook_id``) or a webhook delivery (``webhook_id``)."""

    __tablename__ = "hook_log"
    __table_args__ = (
        # The plan's indexes on hook_id and webhook_id also order by id (0004), so a page of
        # one hook's or webhook's log is an index range, whatever the log's size.
        Index("ix_hook_log_hook_id", "hook_id", "id"),
        Index("ix_hook_log_webhook_id", "webhook_id", "id"),
        Index("ix_hook_log_triggered_at", "triggered_at"),
        Index("ix_hook_log_delivery_id", "delivery_id"),
        Index("ix_hook_log_notification_id", "notification_id"),
        # 0004: the log filtered by event, and its failures (a partial index: only failed rows).
        Index("ix_hook_log_event_name", "event_name", "id"),
        Index(
            "ix_hook_log_success",
            "success",
            "id",
            sqlite_where=text("success = 0"),
            postgresql_where=text("success = 0"),
        ),
        {"sqlite_autoincrement": True},
    )
    _bool_columns = frozenset({"success"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hook_id: Mapped[int | None] = mapped_column(Integer)
    webhook_id: Mapped[int | None] = mapped_column(Integer)
    event_name: Mapped[str] = mapped_column(Text, nullable=False)
    hook_type: Mapped[str] = mapped_column(Text, nullable=False)
    success: Mapped[int] = mapped_column(Integer, nullable=False)
    exit_code: Mapped[int | None] = mapped_column(Integer, default=None, server_default=text("NULL"))
    status_code: Mapped[int | None] = mapped_column(Integer, default=None, server_default=text("NULL"))
    stdout: Mapped[str | None] = mapped_column(Text, default="", server_default=text("''"))
    stderr: Mapped[str | None] = mapped_column(Text, default="", server_default=text("''"))
    error: Mapped[str | None] = mapped_column(Text, default="", server_default=text("''"))
    duration_ms: Mapped[float | None] = mapped_column(DurationType, default=0.0, server_default=text("0"))
    triggered_at: Mapped[str] = mapped_column(Text, nullable=False, default=utcnow_iso, server_default=_NOW)
    # The queued delivery this row records an attempt of (migration 0003); None for rows
    # written by log_hook_execution and for Test runs.
    delivery_id: Mapped[str | None] = mapped_column(Text, default=None)
    # The notification target of a row with hook_type "notification" (migration 0009).
    notification_id: Mapped[int | None] = mapped_column(Integer, default=None)


class ScoringWeight(Base):
    """One overridden weight: ``weight_key`` of ``score_type`` (episode or movie) is ``weight_value``."""

    __tablename__ = "scoring_weights"
    __table_args__ = (
        UniqueConstraint("score_type", "weight_key", name="uq_scoring_weights_score_type_weight_key"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    score_type: Mapped[str] = mapped_column(Text, nullable=False)
    weight_key: Mapped[str] = mapped_column(Text, nullable=False)
    weight_value: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[str] = mapped_column(Text, nullable=False, default=utcnow_iso, server_default=_NOW)


class ProviderScoreModifier(Base):
    """A score bonus (positive) or malus (negative) added to every result of a provider."""

    __tablename__ = "provider_score_modifiers"

    provider_name: Mapped[str] = mapped_column(Text, primary_key=True)
    modifier: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    updated_at: Mapped[str] = mapped_column(Text, nullable=False, default=utcnow_iso, server_default=_NOW)


TABLE_NAMES: tuple[str, ...] = (
    "hook_configs",
    "webhook_configs",
    "hook_log",
    "scoring_weights",
    "provider_score_modifiers",
)


# ---- delivery pipeline (migration 0002) -------------------------------------------------
# Not in the plan's five tables: the durable queue of hook and webhook deliveries, and the
# webhook options sublarr adds on top of the plan's webhook_configs columns.


class WebhookOption(Base):
    """Per-webhook options beyond the plan's columns: HTTP method, custom headers, why disabled."""

    __tablename__ = "webhook_options"

    webhook_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("webhook_configs.id", ondelete="CASCADE"), primary_key=True
    )
    method: Mapped[str] = mapped_column(Text, nullable=False, default="POST", server_default=text("'POST'"))
    # A JSON object of header name -> value; may hold credentials, so never logged.
    headers: Mapped[str] = mapped_column(Text, nullable=False, default="{}", server_default=text("'{}'"))
    disabled_reason: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default=text("''"))
    # Migration 0009: a body template ("" = the Standard Webhooks envelope), its content
    # type, and filters (a JSON list of {field, op, value}; see delivery.filters).
    body_template: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default=text("''"))
    content_type: Mapped[str] = mapped_column(
        Text, nullable=False, default="application/json", server_default=text("'application/json'")
    )
    filters: Mapped[str] = mapped_column(Text, nullable=False, default="[]", server_default=text("'[]'"))


PENDING = text("status = 'pending'")
RUNNING = text("status = 'running'")


class Delivery(Base):
    """One queued run of a script hook or webhook for one event; its id is kept across attempts.

    ``status``: ``pending`` (waiting for ``next_attempt_at``), ``running`` (claimed by
    ``claimed_by`` until ``lease_until``), ``delivered``, ``failed`` or ``skipped`` (its
    hook or webhook was deleted or disabled meanwhile). Times used for scheduling are Unix
    seconds; ``created_at``/``finished_at`` are ISO-8601 text like every other timestamp.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        # 0004: each status class has its own small index, so no query on one class reads the
        # others' rows: claims read the due pending rows in order (a partial index of pending
        # rows only), lease checks the running rows, purges the finished rows by finish time.
        Index("ix_deliveries_due", "next_attempt_at", "id", sqlite_where=PENDING, postgresql_where=PENDING),
        Index("ix_deliveries_running", "lease_until", sqlite_where=RUNNING, postgresql_where=RUNNING),
        Index("ix_deliveries_finished_at", "finished_at"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    target_id: Mapped[int] = mapped_column(Integer, nullable=False)
    event_name: Mapped[str] = mapped_column(Text, nullable=False)
    event_id: Mapped[str] = mapped_column(Text, nullable=False)
    event_timestamp: Mapped[str] = mapped_column(Text, nullable=False)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(
        Text, nullable=False, default="pending", server_default=text("'pending'")
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    next_attempt_at: Mapped[float] = mapped_column(Float, nullable=False)
    lease_until: Mapped[float | None] = mapped_column(Float)
    claimed_by: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default=text("''"))
    created_at: Mapped[str] = mapped_column(Text, nullable=False, default=utcnow_iso, server_default=_NOW)
    finished_at: Mapped[str | None] = mapped_column(Text)


DELIVERY_TABLE_NAMES: tuple[str, ...] = ("webhook_options", "deliveries")


# ---- scoring preferences (migration 0005) ---------------------------------------------------


class ScoringPreference(Base):
    """One stored scoring preference: ``pref_key`` (``"hearing_impaired.mode"``) is the JSON ``pref_value``.

    Keys left out keep their default (``sublarr.core.scoring.preferences``).
    """

    __tablename__ = "scoring_preferences"

    pref_key: Mapped[str] = mapped_column(Text, primary_key=True)
    pref_value: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[str] = mapped_column(Text, nullable=False, default=utcnow_iso, server_default=_NOW)


# ---- cross-process Socket.IO events (migration 0006) ---------------------------------------
# Not in the plan's five tables: events that processes without a Socket.IO server emitted,
# which servers on the same database relay to their clients (sublarr.core.events.relay).


class RecentEvent(Base):
    """One event emitted by a process without a Socket.IO server, kept for a few minutes.

    ``id`` only grows (AUTOINCREMENT on SQLite: never reused, even after a prune), so a
    server follows the table by id. ``message`` is the JSON envelope clients get;
    ``origin`` names the emitting process (``<host>:<pid>:<random>``); ``created_at`` is
    Unix seconds (prune by age).
    """

    __tablename__ = "recent_events"
    __table_args__ = (Index("ix_recent_events_created_at", "created_at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    origin: Mapped[str] = mapped_column(Text, nullable=False)
    event_name: Mapped[str] = mapped_column(Text, nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)


RELAY_TABLE_NAMES: tuple[str, ...] = ("recent_events",)


# ---- plugin settings set through the REST API (migration 0007) ------------------------------


class PluginSettingValue(Base):
    """A plugin setting's value stored through the API (``PUT /api/v1/plugins/<name>/settings``).

    ``value`` is the checked value as JSON text. The file and the environment are never
    copied here (see ``sublarr.core.settings.plugins`` for which wins).
    """

    __tablename__ = "plugin_settings"

    plugin: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[str] = mapped_column(Text, nullable=False, default=utcnow_iso, server_default=_NOW)


# ---- provider ranking (migration 0008) ------------------------------------------------------


class ProviderRanking(Base):
    """What the ``provider_ranking`` plugin saw of one provider: downloads, failures, and how
    many of its downloads were later upgraded (replaced by another subtitle)."""

    __tablename__ = "provider_ranking"

    provider_name: Mapped[str] = mapped_column(Text, primary_key=True)
    downloads: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    upgraded: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    updated_at: Mapped[str] = mapped_column(Text, nullable=False, default=utcnow_iso, server_default=_NOW)


# ---- notifications (migration 0009) ------------------------------------------------------


class NotificationTarget(Base):
    """A notification sent through Apprise: ``url`` (a credential, shown masked) on ``events``.

    ``events`` is a JSON list of event names, or ``["*"]`` for every event but
    ``hook_executed``; ``filters`` a JSON list of conditions (``delivery.filters``);
    empty templates mean the defaults (the event's label; a summary of the payload).
    """

    __tablename__ = "notification_targets"
    __table_args__ = {"sqlite_autoincrement": True}
    _bool_columns = frozenset({"enabled"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    events: Mapped[str] = mapped_column(
        Text, nullable=False, default='["*"]', server_default=text("'[\"*\"]'")
    )
    url: Mapped[str] = mapped_column(Text, nullable=False)
    title_template: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default=text("''"))
    body_template: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default=text("''"))
    filters: Mapped[str] = mapped_column(Text, nullable=False, default="[]", server_default=text("'[]'"))
    enabled: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default=text("1"))
    retry_count: Mapped[int] = mapped_column(Integer, nullable=False, default=3, server_default=text("3"))
    timeout_seconds: Mapped[int] = mapped_column(
        Integer, nullable=False, default=10, server_default=text("10")
    )
    last_triggered_at: Mapped[str] = mapped_column(
        Text, nullable=False, default="", server_default=text("''")
    )
    last_error: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default=text("''"))
    consecutive_failures: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=text("0")
    )
    trigger_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    disabled_reason: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default=text("''"))
    created_at: Mapped[str] = mapped_column(Text, nullable=False, default=utcnow_iso, server_default=_NOW)
    updated_at: Mapped[str] = mapped_column(Text, nullable=False, default=utcnow_iso, server_default=_NOW)


NOTIFICATION_TABLE_NAMES: tuple[str, ...] = ("notification_targets",)
