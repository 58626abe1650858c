"""Running one attempt of one delivery, and recording what happened.

For a claimed ``deliveries`` row: load its hook or webhook (a deleted or disabled one is
skipped), run the script or send the request, then in one transaction write the
``hook_log`` row, the trigger statistics and the delivery's next state (delivered, failed,
or pending again after the retry policy's wait). An attempt that raises inside sublarr (a
bug) counts as a failed attempt like any other, against the same retry limit; one whose
record cannot be written is recorded again without its output. When a delivery is over, ``hook_executed``
is emitted (except for deliveries of ``hook_executed`` itself, so hooks on it cannot loop);
when a webhook gets disabled, ``webhook_disabled`` is emitted.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from sublarr.core.db.hooks import TARGET_TABLES
from sublarr.core.delivery import store as deliveries
from sublarr.core.delivery import subscriptions
from sublarr.core.delivery.retry_policy import RetryPolicy
from sublarr.core.delivery.script_runner import (
    ScriptRefusedError,
    build_environment,
    resolve_script,
    run_script,
)
from sublarr.core.delivery.webhook_sender import WebhookSender, build_envelope, redact_target_secrets
from sublarr.core.settings import Settings

logger = logging.getLogger(__name__)

META_EVENT = "hook_executed"
TEST_EVENT = "test"


@dataclass
class DeliveryResult:
    """The outcome of one attempt, as ``test_hook``/``test_webhook`` return it."""

    delivery_id: str
    kind: str
    target_id: int
    target_name: str
    event_name: str
    attempt: int
    success: bool
    outcome: str
    exit_code: int | None = None
    status_code: int | None = None
    duration_ms: float = 0.0
    error: str = ""
    stdout: str = ""
    stderr: str = ""
    next_attempt_at: float | None = None
    log_id: int | None = None
    webhook_disabled: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return asdict(self)

    def attempt_fields(self) -> dict[str, Any]:
        """What ``deliveries.record_attempt`` stores of this attempt (target, event, outcome)."""
        return {
            "kind": self.kind,
            "target_id": self.target_id,
            "event_name": self.event_name,
            "success": self.success,
            "exit_code": self.exit_code,
            "status_code": self.status_code,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "error": self.error,
            "duration_ms": self.duration_ms,
            "outcome": self.outcome,
        }


def _event_text(text: str) -> str:
    # Event payloads refuse strings that look like absolute paths.
    return f"error: {text}" if text[:1] in ("/", "~", "\\") else text


class DeliveryExecutor:
    """Runs delivery attempts with one settings object and one HTTP client."""

    def __init__(self, settings: Settings, sender: WebhookSender) -> None:
        self.settings = settings
        self.sender = sender
        self.retry = RetryPolicy(base=settings.webhook_retry_base, max_delay=settings.webhook_retry_max)

    # -- queued deliveries ----------------------------------------------------------------

    def run(
        self,
        row: dict[str, Any],
        owner: str | None,
        recorded: Callable[[Exception | None], None] | None = None,
    ) -> DeliveryResult | None:
        """Run one attempt of a claimed delivery row; ``None`` when it was skipped.

        Without ``recorded`` the attempt is written before ``run`` returns. With it, the
        attempt is written with the next group of attempts (``record_attempt_later``) and
        ``run`` returns at once; ``recorded(None)`` follows once it is written (and its
        events are emitted), ``recorded(error)`` when it could not be written at all.
        """
        target = subscriptions.target(row["kind"], row["target_id"])
        if target is None or not target["enabled"]:
            label = TARGET_TABLES[row["kind"]].label
            reason = f"{label} {row['target_id']} " + ("was deleted" if target is None else "is disabled")
            deliveries.skip_delivery(row["id"], owner, reason)
            logger.info("delivery %s skipped: %s", row["id"], reason)
            if recorded is not None:
                recorded(None)
            return None
        try:
            result = self.attempt(row, target, json.loads(row["payload"]), queued=True)
        except Exception as exc:
            logger.exception("attempt of delivery %s raised", row["id"])
            result = self._internal_failure(row, target, exc)
        final = result.outcome != "pending"
        state = self._state(row, owner, result, final)
        if recorded is None:
            self._recorded(row, target, result, self._record(result, state))
            return result

        def written(record: deliveries.AttemptRecord | None, error: Exception | None) -> None:
            if record is None:
                try:
                    record = self._record_again(result, state, error or RuntimeError("not written"))
                except Exception as again:  # noqa: BLE001 - handed to the pool, which logs it
                    recorded(again)
                    return
            self._recorded(row, target, result, record)
            recorded(None)

        deliveries.record_attempt_later(written, **result.attempt_fields(), **state)
        return result

    def _recorded(
        self,
        row: dict[str, Any],
        target: dict[str, Any],
        result: DeliveryResult,
        record: deliveries.AttemptRecord,
    ) -> None:
        """What follows a written attempt: the log line, ``hook_executed``, ``webhook_disabled``."""
        result.log_id = record.log_id
        result.webhook_disabled = record.disabled
        level = logging.INFO if result.success else logging.WARNING
        logger.log(
            level,
            "%s %d (%s) for %s, attempt %d: %s%s",
            row["kind"],
            row["target_id"],
            result.target_name,
            row["event_name"],
            result.attempt,
            result.outcome,
            f" ({result.error})" if result.error else "",
        )
        if result.outcome != "pending" and row["event_name"] != META_EVENT:
            self._emit_executed(result)
        if record.disabled:
            self._emit_disabled(
                target, record.disabled_reason, record.consecutive_failures, result.status_code
            )

    _gone_reason = "the receiver answered 410 Gone"

    def _state(
        self, row: dict[str, Any], owner: str | None, result: DeliveryResult, final: bool
    ) -> dict[str, Any]:
        """The delivery-state arguments of ``record_attempt`` for this attempt."""
        return {
            "delivery_id": row["id"],
            "owner": owner,
            "next_attempt_at": result.next_attempt_at,
            "final": final,
            "disable_reason": self._gone_reason if result.status_code == 410 else "",
            "failure_threshold": self.settings.webhook_failure_threshold,
        }

    def _record(self, result: DeliveryResult, state: dict[str, Any]) -> deliveries.AttemptRecord:
        """Write the attempt; if that fails, write it again without its output (then raise)."""
        try:
            return deliveries.record_attempt(**result.attempt_fields(), **state)
        except Exception as exc:  # noqa: BLE001 - logged by _record_again
            return self._record_again(result, state, exc)

    def _record_again(
        self, result: DeliveryResult, state: dict[str, Any], exc: Exception
    ) -> deliveries.AttemptRecord:
        """Write an attempt whose write failed once more, without its output (which may be the cause)."""
        logger.error(
            "could not record attempt %d of delivery %s", result.attempt, state["delivery_id"], exc_info=exc
        )
        reason = deliveries.describe_storage_failure(exc)
        note = f"the attempt's output could not be stored ({reason})"
        result.stdout = result.stderr = ""
        result.error = f"{result.error}; {note}" if result.error else note
        return deliveries.record_attempt(**result.attempt_fields(), **state)

    def _internal_failure(
        self, row: dict[str, Any], target: dict[str, Any], exc: Exception
    ) -> DeliveryResult:
        """The result of an attempt that raised: a failure, retried while retries are left."""
        attempt = int(row.get("attempts") or 0) + 1
        error = f"internal error: {type(exc).__name__}: {exc}"
        if row["kind"] == "webhook":
            error = redact_target_secrets(
                error,
                url=target["url"],
                secret=target.get("secret") or "",
                headers=target.get("headers") or {},
            )
        outcome, next_at = self._next_state(row["kind"], target, attempt, retryable=True)
        return DeliveryResult(
            delivery_id=row["id"],
            kind=row["kind"],
            target_id=int(target["id"]),
            target_name=target["name"],
            event_name=row["event_name"],
            attempt=attempt,
            success=False,
            outcome=outcome,
            error=error,
            next_attempt_at=next_at,
        )

    def _next_state(
        self,
        kind: str,
        target: dict[str, Any],
        attempt: int,
        *,
        retryable: bool,
        retry_after: float | None = None,
    ) -> tuple[str, float | None]:
        """``("pending", when)`` for a failed attempt to retry, else ``("failed", None)``.

        Webhooks are retried ``retry_count`` times; script hooks are not retried.
        """
        retries = int(target.get("retry_count") or 0) if kind == "webhook" else 0
        if retryable and attempt <= retries:
            return "pending", time.time() + self.retry.delay(attempt, retry_after)
        return "failed", None

    # -- one attempt ----------------------------------------------------------------------

    def attempt(
        self, row: dict[str, Any], target: dict[str, Any], payload: dict[str, Any], *, queued: bool
    ) -> DeliveryResult:
        """Run the script or send the request once; decide the delivery's next state."""
        attempt = int(row.get("attempts") or 0) + 1
        base = {
            "delivery_id": row["id"],
            "kind": row["kind"],
            "target_id": int(target["id"]),
            "target_name": target["name"],
            "event_name": row["event_name"],
            "attempt": attempt,
        }
        if row["kind"] == "script":
            return self._attempt_script(base, row, target, payload)
        return self._attempt_webhook(base, row, target, payload, queued=queued)

    def _attempt_script(
        self, base: dict[str, Any], row: dict[str, Any], target: dict[str, Any], payload: dict[str, Any]
    ) -> DeliveryResult:
        started = time.monotonic()
        try:
            script = resolve_script(target["script_path"], self.settings.effective_hooks_dir)
        except ScriptRefusedError as exc:
            return DeliveryResult(
                **base,
                success=False,
                outcome="failed",
                error=str(exc),
                duration_ms=(time.monotonic() - started) * 1000,
            )
        payload_json = row["payload"]
        env = build_environment(row["event_name"], row["event_id"], payload, payload_json)
        ran = run_script(
            script,
            env=env,
            stdin=payload_json.encode("utf-8"),
            timeout=float(target.get("timeout_seconds") or 30),
            output_limit=self.settings.hook_output_limit,
        )
        error = ran.error or ("" if ran.exit_code == 0 else f"exited with code {ran.exit_code}")
        return DeliveryResult(
            **base,
            success=ran.success,
            outcome="delivered" if ran.success else "failed",
            exit_code=ran.exit_code,
            duration_ms=ran.duration_ms,
            error=error,
            stdout=ran.stdout,
            stderr=ran.stderr,
        )

    def _attempt_webhook(
        self,
        base: dict[str, Any],
        row: dict[str, Any],
        target: dict[str, Any],
        payload: dict[str, Any],
        *,
        queued: bool,
    ) -> DeliveryResult:
        body = build_envelope(row["id"], row["event_name"], row["event_timestamp"], payload)
        headers = target.get("headers") or {}
        sent = self.sender.send(
            url=target["url"],
            body=body,
            event_name=row["event_name"],
            msg_id=row["id"],
            secret=target.get("secret") or "",
            method=target.get("method") or "POST",
            headers=headers,
            timeout=float(target.get("timeout_seconds") or 10),
        )
        error = redact_target_secrets(
            sent.error, url=target["url"], secret=target.get("secret") or "", headers=headers
        )
        outcome, next_at = "delivered", None
        if not sent.success:
            outcome, next_at = self._next_state(
                "webhook",
                target,
                base["attempt"],
                retryable=queued and sent.retryable,
                retry_after=sent.retry_after,
            )
        return DeliveryResult(
            **base,
            success=sent.success,
            outcome=outcome,
            status_code=sent.status_code,
            duration_ms=sent.duration_ms,
            error=error,
            next_attempt_at=next_at,
        )

    # -- test fire ------------------------------------------------------------------------

    def run_test(self, kind: str, target: dict[str, Any], payload: dict[str, Any]) -> DeliveryResult:
        """One attempt now with ``payload`` as event ``test``; logged, no statistics, no retry."""
        row = {
            "id": deliveries.new_delivery_ids(1)[0],
            "kind": kind,
            "target_id": int(target["id"]),
            "event_name": TEST_EVENT,
            "event_id": uuid.uuid4().hex,
            "event_timestamp": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "payload": json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
            "attempts": 0,
        }
        result = self.attempt(row, target, payload, queued=False)
        record = deliveries.record_attempt(
            delivery_id=None,
            owner=None,
            **result.attempt_fields(),
            update_stats=False,
        )
        result.log_id = record.log_id
        return result

    # -- operational events ---------------------------------------------------------------

    def _emit_executed(self, result: DeliveryResult) -> None:
        from sublarr.core.events.emit import emit_event

        try:
            emit_event(
                META_EVENT,
                {
                    "hook_id": result.target_id if result.kind == "script" else None,
                    "webhook_id": result.target_id if result.kind == "webhook" else None,
                    "hook_type": result.kind,
                    "hook_name": _event_text(result.target_name),
                    "event_name": result.event_name,
                    "delivery_id": result.delivery_id,
                    "attempt": result.attempt,
                    "success": result.success,
                    "exit_code": result.exit_code,
                    "status_code": result.status_code,
                    "duration_ms": round(result.duration_ms, 3),
                    "error": _event_text(result.error) or None,
                },
            )
        except Exception:  # the delivery is recorded; an event problem must not undo it
            logger.exception("could not emit %s for delivery %s", META_EVENT, result.delivery_id)

    def _emit_disabled(
        self, target: dict[str, Any], reason: str, failures: int, status_code: int | None
    ) -> None:
        from sublarr.core.events.emit import emit_event

        logger.warning("webhook %d (%s) disabled: %s", target["id"], target["name"], reason)
        try:
            emit_event(
                "webhook_disabled",
                {
                    "webhook_id": int(target["id"]),
                    "name": _event_text(target["name"]),
                    "reason": reason,
                    "consecutive_failures": failures,
                    "status_code": status_code,
                },
            )
        except Exception:  # see _emit_executed
            logger.exception("could not emit webhook_disabled for webhook %s", target["id"])
