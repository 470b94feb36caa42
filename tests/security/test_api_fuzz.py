"""schemathesis over the whole JSON API, in-process: every operation of the OpenAPI schema gets
generated requests (paths, queries and bodies the schema allows), sent signed in as an LA manager
and again as an administrator. No answer may be a server error, and every answer must match the
schema's responses (status code and body).

The normal suite sends a few thousand requests; CI raises the budget with CASEWORK_FUZZ_EXAMPLES
(examples per operation per run) and CASEWORK_FUZZ_MIN_REQUESTS (what the runs must add up to),
and the last test asserts the total, so the run proves how many were made.

Runs on SQLite: one richer world (tests/security/world.py) per role, which the requests are free to
change. Half the generated cases name records that exist, so bodies reach the handlers' rules. The
summary prints how many requests each run made and the statuses they got.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from casework.vocabulary import Role
from tests.security.world import USERS, build_security_world, make_app, sign_in
from tests.support.csrf import csrf_client

EXAMPLES = int(os.environ.get("CASEWORK_FUZZ_EXAMPLES", "8"))
MIN_REQUESTS = int(os.environ.get("CASEWORK_FUZZ_MIN_REQUESTS", "1000"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

# Operations left out, each with its reason.
EXCLUDED = {
    # Signing out ends the run's own session; its refusals are covered by the matrix.
    "POST /api/auth/logout": "ends the session the fuzzing runs in",
}
# Sent without the session: a generated sign-in must not replace (or end) the run's own.
ANONYMOUS = {"POST /api/auth/login"}

SENT: Counter[str] = Counter()
ANSWERS: Counter[int] = Counter()


@pytest.fixture(scope="module", params=[Role.LA_MANAGER, Role.ADMIN], ids=lambda r: r.value)
def signed_in(
    request, tmp_path_factory
) -> Iterator[tuple[Role, Litestar, schemathesis.BaseSchema]]:
    directory = tmp_path_factory.mktemp(f"fuzz-{request.param.value}")
    world = build_security_world(f"sqlite:///{directory}/fuzz.db")
    app = make_app(world, directory)
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    yield request.param, app, schema
    world.engine.dispose()


def _client(app: Litestar, role: Role, label: str, client: TestClient | None) -> TestClient:
    """The client for the next operation: signed in again if an operation ended the session
    (an administrator resetting their own second factor, say)."""
    if label in ANONYMOUS:
        return csrf_client(app)
    if client is None or client.get("/api/auth/me").status_code == 401:
        return sign_in(app, USERS[role])
    return client


def _as_text(part: tuple) -> tuple:
    """A generated multipart field whose value is a number or a boolean, as the text a browser
    would send (httpx encodes only text and bytes)."""
    name, (filename, value, *rest) = part
    if not isinstance(value, str | bytes):
        value = str(value)
    return name, (filename, value, *rest)


def _near_the_world(cases: st.SearchStrategy) -> st.SearchStrategy:
    """Half the cases name records that exist (ids 1 to 60 are pupils, cases, notices... of the
    world), so the generated bodies reach the handlers' own rules, not only "not found"."""

    def aim(drawn):
        case, real, ids = drawn
        if real and case.path_parameters:
            for name, value in case.path_parameters.items():
                if isinstance(value, int):
                    case.path_parameters[name] = ids
        return case

    return st.tuples(cases, st.booleans(), st.integers(1, 60)).map(aim)


def _fuzz(operation, client: TestClient, role: Role) -> None:
    @given(case=_near_the_world(operation.as_strategy()))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        kwargs = case.as_transport_kwargs()
        # The session is the client's: the schema's cookie security scheme would have
        # schemathesis send a made-up session cookie instead.
        kwargs.pop("cookies", None)
        kwargs["headers"] = {k: v for k, v in kwargs["headers"].items() if k.lower() != "cookie"}
        if kwargs.get("files"):
            kwargs["files"] = [_as_text(part) for part in kwargs["files"]]
        request = client.build_request(**kwargs)
        request.read()  # a multipart body, read now, so a failure report can show it
        response = client.send(request, follow_redirects=False)
        SENT[role.value] += 1
        ANSWERS[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    run()


def test_every_operation_answers_within_its_schema(signed_in):
    role, app, schema = signed_in
    failures = []
    operations = 0
    session = None
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in EXCLUDED:
            continue
        operations += 1
        client = _client(app, role, operation.label, session)
        if operation.label not in ANONYMOUS:
            session = client
        try:
            _fuzz(operation, client, role)
        # schemathesis reports its failures as an exception group; each operation's is kept and
        # the next operation runs.
        except (Exception, BaseExceptionGroup) as failure:
            failures.append(f"{operation.label}: {type(failure).__name__}: {failure}"[:2000])
    print(f"schemathesis as {role.value}: {SENT[role.value]} requests over {operations} operations")
    assert operations > 100
    assert not failures, "\n\n".join(failures)


def test_the_request_budget_was_spent():
    """After both runs: the requests actually made (CI sets the budget to at least 10,000)."""
    total = sum(SENT.values())
    print(f"schemathesis: {total} requests in all ({dict(SENT)}); answers {dict(ANSWERS)}")
    if len(SENT) < 2:
        pytest.skip("the fuzz runs were not both selected")
    assert total >= MIN_REQUESTS
