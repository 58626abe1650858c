"""Webhook signatures, as the Standard Webhooks spec defines them.

A secret is ``whsec_`` followed by the base64 of 24..64 random bytes. A message is signed
as ``v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`` and sent with the headers
``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``. Receivers
can verify with any Standard Webhooks library (for Python: ``standardwebhooks``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

from sublarr.core.errors import ValidationError

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """A webhook message whose signature headers are missing, stale or do not match."""


def generate_secret() -> str:
    """A new random secret, ``whsec_<base64 of 32 bytes>``."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret; ``ValidationError`` (field ``secret``) if malformed."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise ValidationError("secret", "must look like whsec_<base64>, as Standard Webhooks secrets do")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("secret", "the part after whsec_ is not valid base64") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise ValidationError(
            "secret", f"must hold {MIN_SECRET_BYTES}..{MAX_SECRET_BYTES} bytes, got {len(key)}"
        )
    return key


def check_secret(secret: str) -> str:
    """``secret`` if it is a usable ``whsec_`` secret, else ``ValidationError``."""
    secret_key(secret)
    return secret


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value (``v1,<base64>``) of one message."""
    mac = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode("ascii")


def signature_headers(secret: str, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body`` sent now (or at ``timestamp``)."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, msg_id, ts, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> str:
    """Check a received message; return its ``webhook-id`` or raise ``SignatureError``.

    Signatures are compared in constant time; any of several space-separated ``v1``
    signatures may match (secret rotation).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (msg_id and stamp and signatures):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        ts = int(stamp)
    except ValueError:
        raise SignatureError("webhook-timestamp is not a whole number of seconds") from None
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        raise SignatureError("webhook-timestamp is outside the tolerance window")
    expected = sign(secret, msg_id, ts, body).split(",", 1)[1].encode("ascii")
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode("ascii", "replace"), expected):
            return msg_id
    raise SignatureError("no signature matches")


def mask_secret(secret: str | None) -> str:
    """A secret as shown to users: its prefix and last four characters, or ``""``."""
    if not secret:
        return ""
    prefix = SECRET_PREFIX if secret.startswith(SECRET_PREFIX) else ""
    tail = secret[-4:] if len(secret) - len(prefix) >= 16 else ""
    return f"{prefix}{'*' * 8}{tail}"
