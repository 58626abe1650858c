"""Schema-driven fuzzing: schemathesis reads the served OpenAPI document and attacks every operation.

No generated request may get a 5xx, an undocumented status, a non-JSON answer or a body
that breaks its documented schema; requests that break the schema (negative mode) must be
refused with a 4xx. Bounded: a few examples per operation, no network
(host lookups are answered "unknown" so a generated webhook URL never leaves the machine).
"""

from __future__ import annotations

import socket

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schemathesis.check
def negative_data_refused(ctx, response, case):
    """Schema-breaking data is refused: a 4xx of the check's list, or 413 for a body over the
    size limit (refused before its schema is read, e.g. a Sonarr call naming 20,000 episodes)."""
    if response.status_code == 413:
        return True
    return negative_data_rejection(ctx, response, case)


NEGATIVE_CHECKS = [*CHECKS, negative_data_refused]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


@pytest.fixture
def no_dns(monkeypatch):
    real = socket.getaddrinfo

    def local_only(host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if host in LOCAL_HOSTS:
            return real(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "not resolved in tests")

    monkeypatch.setattr(socket, "getaddrinfo", local_only)


FUZZ_SETTINGS = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def _fuzz(operation, mode: GenerationMode, checks: list, api_key: str) -> None:
    @FUZZ_SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case):
        case.call_and_validate(headers={"X-Api-Key": api_key}, checks=checks)

    fuzz()


def test_no_server_errors_and_no_schema_violations(sublarr_app, api_key, no_dns):
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", sublarr_app, headers={"X-Api-Key": api_key}
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 43  # every route is fuzzed (the OpenAPI test checks none is undocumented)
    failures = []
    for operation in operations:
        for mode, checks in ((GenerationMode.POSITIVE, CHECKS), (GenerationMode.NEGATIVE, NEGATIVE_CHECKS)):
            try:
                _fuzz(operation, mode, checks, api_key)
            except (KeyboardInterrupt, SystemExit):
                raise
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, operation.label  # nothing to break (no input)
            except BaseException as exc:  # noqa: BLE001 - failures come as exception groups; report all
                failures.append(f"{operation.label} ({mode.value}): {exc!r}"[:3000])
    assert not failures, "\n\n".join(failures)
