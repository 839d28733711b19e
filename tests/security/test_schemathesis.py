"""schemathesis over /api/schema/ for clerk, approver, supervisor and citizen tokens: no server error
and no response that contradicts the schema, on every operation.

Bounded (SCHEMATHESIS_MAX_EXAMPLES per operation and role, derandomised so CI is repeatable) and run
by .ci/run as its own step: TONGBAN_SCHEMATHESIS=1 enables it (it takes a few minutes, too long for
every `make test`). In-process through Django's WSGI handler against the test database with the
`wf` world, so requests hit real rows, scoping and permissions.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db,
    pytest.mark.skipif(os.environ.get("TONGBAN_SCHEMATHESIS") != "1", reason="set TONGBAN_SCHEMATHESIS=1 (.ci/run)"),
]

ROLES = {"clerk": "zy_clerk", "approver": "yy_approver", "supervisor": "sup_province", "citizen": "citizen"}
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8"))


def test_schema_lists_the_map_endpoints(client):
    import yaml

    paths = yaml.safe_load(client.get("/api/schema/").content)["paths"]
    assert "/api/v1/map/halls.geojson" in paths and "/api/v1/map/halls/{code}/popup/" in paths


@pytest.mark.parametrize("role", list(ROLES))
def test_fuzz_the_api(role, wf, settings):
    import schemathesis
    from django.core.signals import request_finished, request_started
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    from accounts import tokens

    settings.ALLOWED_HOSTS = ["*"]
    # Throttles and OTP limits would answer 429 after a few examples and hide the endpoints.
    settings.OTP_PER_PHONE_PER_HOUR = settings.OTP_PER_DEVICE_PER_HOUR = 10**6
    user = wf.users[ROLES[role]]
    key = tokens.issue(user).key
    # As Django's test client does: the WSGI handler would otherwise close the test's connection at
    # the end of every request (CONN_MAX_AGE=0), inside the test's transaction, on a file database.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        _fuzz(schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application()), user, key)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _fuzz(schema: Any, user: Any, key: str) -> None:
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hsettings
    from rest_framework.authtoken.models import Token
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @hsettings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            # The fuzzer may well call /auth/logout/ with our token: put it back for the next example.
            Token.objects.get_or_create(key=key, defaults={"user": user})
            # identity: the in-process WSGI transport does not undo Content-Encoding (halls.geojson
            # is served pre-gzipped to clients that accept it).
            response = case.call(headers={"Authorization": f"Token {key}", "Accept-Encoding": "identity"})
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        try:
            run()
        except Exception as exc:  # collect every operation's first failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert operations > 20
    assert not failures, "\n\n".join(failures)
