"""The authorization matrix: every route by every role by own / other record, each cell asserted
against the rule written down in tests/security/matrix.py (a test id per cell, e.g.
``GET /api/pupils/{pupil_id:int} school_staff other``).

The matrix runs on SQLite against one richer world (tests/security/world.py) built once for the
module; on PostgreSQL one test walks every read of a record by every caller against the same world.
A record outside the caller's scope must get exactly the answer a record that does not exist
gets. Writes carry the entry's body or the smallest body the OpenAPI schema accepts, so the role
check is reached, not just the validator.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from casework.clock import FixedClock
from casework.vocabulary import Role
from tests.security.matrix import MATRIX, Rule
from tests.security.records import MISSING, find
from tests.security.world import (
    NOW,
    USERS,
    SecurityWorld,
    build_security_world,
    make_app,
    sign_in,
)
from tests.support.csrf import csrf_client
from tests.support.postgres import require_postgres, scratch_database
from workflows.context import Context

ANONYMOUS = "anonymous"
CALLERS: tuple[str, ...] = (ANONYMOUS, *(role.value for role in USERS))
SAFE = {"GET", "HEAD"}
REFUSALS = {401, 403, 404}
# Litestar's own handlers every route gets: not routes of the app's.
IGNORED = {"OPTIONS"}


def served_routes(app: Litestar) -> set[str]:
    return {
        f"{method} {route.path}"
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        for method in handler.http_methods
        if method not in IGNORED
    }


def _wheres(rule: Rule, caller: str) -> tuple[str, ...]:
    if rule.record is None:
        return ("none",)
    if rule.public or caller == ANONYMOUS:
        return ("any",)
    if rule.token != (caller == Role.INTEGRATION.value):
        return ("any",)  # the wrong credential: refused whatever the record
    return ("own", "other")


CELLS = [
    pytest.param(route, caller, where, id=f"{route} {caller} {where}")
    for route, rule in MATRIX.items()
    for caller in CALLERS
    for where in _wheres(rule, caller)
]


def verdict(rule: Rule, caller: str, where: str, status: int, missing: int) -> str:
    """What is wrong with a cell's answer ("" when nothing). ``missing`` is the answer to the same
    request naming records that do not exist: an out-of-scope record must get exactly that."""
    if status >= 500:
        return "a server error"
    if rule.public:
        return ""
    wrong_credential = (
        caller != Role.INTEGRATION.value
        if rule.token
        else caller in (ANONYMOUS, Role.INTEGRATION.value)
    )
    if wrong_credential:
        return "" if status == 401 else "expected 401 (no valid credential)"
    role = Role(caller)
    may = role in rule.roles
    if where == "other":
        if status != missing:
            return f"the record's existence leaks: a missing record answers {missing}"
        # Never "forbidden" about a record the caller cannot see, unless the role is refused
        # whatever the record (the missing record got the same 403); a bad query or body may
        # be refused, or a page may redirect, before the record is looked up.
        ok = {400, 404, 422} | (set() if may else {403})
        if status in ok or 300 <= status < 400:
            return ""
        return f"expected {' or '.join(map(str, sorted(ok)))}"
    if not may:
        ok = {404 if rule.hidden else 403} | ({400, 422} if rule.form_first else set())
        return "" if status in ok else f"expected {' or '.join(map(str, sorted(ok)))}"
    refusals = {401, 403} if where == "none" else REFUSALS
    # 404 on a record-less route means a record the body names is outside the caller's scope.
    return f"expected to be allowed (not {status})" if status in refusals else ""


# --- the world and the callers ---------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[SecurityWorld]:
    built = build_security_world(f"sqlite:///{tmp_path_factory.mktemp('security')}/matrix.db")
    yield built
    built.engine.dispose()


@pytest.fixture(scope="module")
def matrix_app(world, tmp_path_factory) -> Litestar:
    return make_app(world, tmp_path_factory.mktemp("var"))


def make_callers(matrix_app: Litestar, world: SecurityWorld) -> dict[str, TestClient]:
    # Every client sends the CSRF token, so what answers is the authorization, not the CSRF check.
    clients = {ANONYMOUS: csrf_client(matrix_app)}
    for role, username in USERS.items():
        if role is Role.INTEGRATION:
            client = csrf_client(matrix_app)
            client.headers["Authorization"] = f"Bearer {world.token}"
            clients[role.value] = client
        else:
            clients[role.value] = sign_in(matrix_app, username)
    return clients


@pytest.fixture(scope="module")
def callers(matrix_app, world) -> dict[str, TestClient]:
    return make_callers(matrix_app, world)


@pytest.fixture(scope="module")
def openapi(matrix_app) -> dict[str, Any]:
    return matrix_app.openapi_schema.to_schema()


# --- requests ----------------------------------------------------------------------------------


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def minimal(schema: dict[str, Any], spec: dict[str, Any]) -> Any:
    """The smallest value the schema accepts: required fields only, placeholder values."""
    schema = _resolve(schema, spec)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(s, spec).get("type") != "null"]
            return minimal(options[0], spec) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    match kind:
        case "object":
            props = schema.get("properties", {})
            return {name: minimal(props[name], spec) for name in schema.get("required", [])}
        case "array":
            return []
        case "integer" | "number":
            return schema.get("minimum", 1)
        case "boolean":
            return False
        case "string":
            return {"date": TODAY_ISO, "date-time": NOW.isoformat()}.get(
                schema.get("format", ""), "x" * max(1, schema.get("minLength", 1))
            )
    return None


TODAY_ISO = NOW.date().isoformat()


def request_for(spec: dict[str, Any], rule: Rule, method: str, path: str) -> dict[str, Any]:
    """Keyword arguments for the request: the required query parameters, and a body (the
    rule's, else a minimal JSON body for the API, an empty form for a page)."""
    kwargs: dict[str, Any] = {"headers": rule.headers}
    operation = spec["paths"].get(re.sub(r":\w+}", "}", path), {}).get(method.lower(), {})
    query = {
        p["name"]: minimal(p.get("schema", {}), spec)
        for p in operation.get("parameters", [])
        if p.get("in") == "query" and p.get("required")
    }
    if query:
        kwargs["params"] = query
    if method in SAFE or method == "DELETE":
        return kwargs
    if not path.startswith("/api/"):
        kwargs["data"] = rule.body or {}
        return kwargs
    content = operation.get("requestBody", {}).get("content", {})
    if rule.body is not None:
        kwargs["json"] = rule.body
    elif "application/json" in content:
        kwargs["json"] = minimal(content["application/json"].get("schema", {}), spec)
    return kwargs


def fill(path: str, params: dict[str, Any]) -> str:
    return re.sub(r"{(\w+)(:\w+)?}", lambda m: str(params[m.group(1)]), path)


@functools.cache
def _params(world: SecurityWorld, record: str, caller: str, where: str) -> dict[str, Any] | None:
    with world.factory() as session:
        scope = None
        if where in ("own", "other"):
            user = world.user(session, Role(caller))
            scope = Context.build(session, user, FixedClock(NOW)).scope
        return find(session, record, scope, where)


def params_for(world: SecurityWorld, rule: Rule, caller: str, where: str) -> dict[str, Any]:
    """The path parameters, looked up once per record kind, caller and where."""
    if rule.record is None:
        return rule.path
    found = _params(world, rule.record, caller, where)
    if found is None:
        pytest.skip(f"the synthetic world has no {rule.record} in this caller's scope")
    return found


def call(
    client: TestClient, spec: dict[str, Any], rule: Rule, route: str, params: dict[str, Any]
) -> tuple[str, int]:
    method, path = route.split(" ", 1)
    url = fill(path, params)
    kwargs = request_for(spec, rule, method, path)
    return url, client.request(method, url, follow_redirects=False, **kwargs).status_code


# --- the tests ---------------------------------------------------------------------------------


def test_every_route_has_a_matrix_entry(matrix_app):
    served = served_routes(matrix_app)
    missing = sorted(served - MATRIX.keys())
    assert not missing, f"routes with no entry in tests/security/matrix.py: {missing}"
    stale = sorted(MATRIX.keys() - served)
    assert not stale, f"entries for routes the app no longer serves: {stale}"


@pytest.mark.parametrize(("route", "caller", "where"), CELLS)
def test_cell(route, caller, where, world, callers, openapi, matrix_app):
    rule = MATRIX[route]
    params = params_for(world, rule, caller, where)
    client = callers[caller]
    if rule.own_session and caller not in (ANONYMOUS, Role.INTEGRATION.value):
        client = sign_in(matrix_app, USERS[Role(caller)])
    url, status = call(client, openapi, rule, route, params)
    missing = status
    if where == "other" and status != 404:  # "not found" is what a missing record gets
        _, missing = call(client, openapi, rule, route, dict.fromkeys(params, MISSING))
    wrong = verdict(rule, caller, where, status, missing)
    if wrong and rule.gap:
        pytest.xfail(f"known gap: {rule.gap}")
    assert not wrong, f"{route} as {caller} ({where}: {url}) answered {status}: {wrong}"


# The same scoping on PostgreSQL: every read of a record, by every caller, own and other (one test,
# so the sample runs against one world built once).
PG_SAMPLE = [
    (route, caller, where)
    for route, rule in MATRIX.items()
    if route.startswith("GET ") and rule.record and not rule.public
    for caller in CALLERS
    for where in _wheres(rule, caller)
]


@pytest.mark.postgres
def test_reads_of_records_on_postgresql(tmp_path):
    require_postgres()
    name = f"casework_matrix_{os.getpid()}"
    with scratch_database(name) as url:
        world = build_security_world(url)
        try:
            app = make_app(world, tmp_path)
            clients = make_callers(app, world)
            spec = app.openapi_schema.to_schema()
            wrong = []
            for route, caller, where in PG_SAMPLE:
                rule = MATRIX[route]
                params = _params(world, rule.record, caller, where)
                if params is None:
                    continue  # the caller has no such record in scope
                url_, status = call(clients[caller], spec, rule, route, params)
                missing = status
                if where == "other" and status != 404:
                    _, missing = call(
                        clients[caller], spec, rule, route, dict.fromkeys(params, MISSING)
                    )
                problem = verdict(rule, caller, where, status, missing)
                if problem and not rule.gap:
                    wrong.append(f"{route} as {caller} ({where}: {url_}) {status}: {problem}")
        finally:
            world.engine.dispose()
    assert len(PG_SAMPLE) > 300
    assert not wrong, "\n".join(wrong)
