"""Errors as RFC 9457 problem details. Messages name fields, values and rules, never a pupil."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    ValidationException,
)
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
)
from litestar.response import Redirect
from sqlalchemy.orm.exc import StaleDataError

from casework.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    NoticeRefused,
    TransitionRefused,
)

log = logging.getLogger("casework.api")

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(body, status_code=status, media_type=PROBLEM)


def _invalid(_: Request, exc: InvalidInput) -> Response:
    errors = [{"field": p.field, "value": p.value, "rule": p.rule} for p in exc.problems]
    detail = "; ".join(f"{p.field} = {p.value!r}: {p.rule}" for p in exc.problems)
    return problem(422, "Invalid input", detail, errors=errors)


_MISSING = object()


def _lookup(body: Any, key: str) -> Any:
    """The value the client sent at a msgspec path such as ``$.sessions[0].code``."""
    node = body
    for part in re.findall(r"[^.\[\]$]+", key or ""):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return _MISSING
    return node


def _sent_body(request: Request) -> Any:
    raw = getattr(getattr(request, "_connection_state", None), "body", None)
    if isinstance(raw, bytes | bytearray) and raw:
        try:
            return json.loads(raw)
        except ValueError:
            return _MISSING
    return _MISSING


def _validation(request: Request, exc: ValidationException) -> Response:
    body = _sent_body(request)
    errors = []
    for item in exc.extra or []:
        if not isinstance(item, dict):
            continue
        field = str(item.get("key") or "body").removeprefix("$.")
        entry: dict[str, Any] = {"field": field, "rule": item.get("message", "invalid")}
        value = _lookup(body, field) if body is not _MISSING else _MISSING
        entry["value"] = None if value is _MISSING else value
        errors.append(entry)
    detail = "; ".join(f"{e['field']}: {e['rule']}" for e in errors) or str(exc.detail)
    return problem(400, "Invalid request", detail, errors=errors)


def _refused(_: Request, exc: TransitionRefused) -> Response:
    unmet = [
        {"guard": u.guard, "reason": u.reason, "overridable": u.overridable} for u in exc.unmet
    ]
    return problem(
        409,
        "Action refused",
        f"{exc.trigger} is not allowed now: " + "; ".join(u.reason for u in exc.unmet),
        trigger=exc.trigger,
        stage=exc.stage,
        unmet=unmet,
    )


def _notice_refused(_: Request, exc: NoticeRefused) -> Response:
    refusals = [
        {
            "parent": who,
            "unmet": [
                {"check": u.guard, "reason": u.reason, "overridable": u.overridable} for u in unmet
            ],
        }
        for who, unmet in exc.refusals.items()
    ]
    return problem(409, "Penalty notice refused", str(exc), refusals=refusals)


def _not_found(_: Request, exc: NotFound | NotFoundException) -> Response:
    what = f"{exc.what} {exc.ident}" if isinstance(exc, NotFound) else "the resource"
    return problem(404, "Not found", f"{what} was not found")


def _forbidden(_: Request, exc: Forbidden) -> Response:
    return problem(403, "Not allowed", str(exc))


def _conflict(_: Request, exc: Exception) -> Response:
    detail = (
        str(exc)
        if isinstance(exc, Conflict)
        else "the record was changed by someone else at the same time: reload it and try again"
    )
    return problem(409, "Conflict", detail)


def _unauthorised(request: Request, exc: NotAuthorizedException) -> Response:
    # A person in a browser is sent to the sign-in page; API clients get a problem document.
    if not request.scope["path"].startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    ):
        return Redirect("/login")
    return problem(401, "Sign in required", exc.detail or "sign in to continue")


def _http(_: Request, exc: HTTPException) -> Response:
    return problem(exc.status_code, exc.detail or "Error", exc.detail or "")


def _server_error(request: Request, exc: Exception) -> Response:
    # The type only: exception text can carry personal data from a record.
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.scope["path"])
    return problem(500, "Server error", "something went wrong; it has been logged")


# Record ids are 32-bit integers in the database: a larger one in an address names nothing.
LARGEST_ID = 2**31 - 1


def ids_in_range(request: Request) -> None:
    """Before any handler: an integer in the address beyond what a record id can be is "not
    found" (the database would refuse to compare it, which is no reason for a server error)."""
    for value in request.path_params.values():
        if isinstance(value, int) and not -LARGEST_ID <= value <= LARGEST_ID:
            raise NotFoundException()


# What any JSON API operation may answer besides its own success, all as problem documents: a
# malformed request, no session, a refusal (role or CSRF), a record not found or outside scope,
# a conflict or a broken business rule. Sign-in may also be throttled.
PROBLEM_STATUSES = {
    400: "The request is malformed (the errors name field, value and rule)",
    401: "Sign in required (or a valid integration token)",
    403: "Not allowed for this role, or the CSRF token is missing",
    404: "Not found (or outside what the signed-in user may see)",
    409: "Conflict: the record changed, or an action was refused",
    422: "Invalid input: the errors name field, value and rule; nothing was changed",
}
THROTTLED_PATHS = {"/api/auth/login"}


def document_problems(schema: OpenAPI) -> None:
    """Add the problem-document answers to every /api operation of the app's OpenAPI schema,
    so clients (and the schema-driven tests) know every status the API can answer."""
    components = schema.components
    if components.schemas is None:
        components.schemas = {}
    components.schemas["Problem"] = Schema(
        type=OpenAPIType.OBJECT,
        required=["type", "title", "status", "detail"],
        properties={
            "type": Schema(type=OpenAPIType.STRING),
            "title": Schema(type=OpenAPIType.STRING),
            "status": Schema(type=OpenAPIType.INTEGER),
            "detail": Schema(type=OpenAPIType.STRING),
            "errors": Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.OBJECT)),
        },
    )
    answer = {PROBLEM: OpenAPIMediaType(schema=Reference("#/components/schemas/Problem"))}
    for path, item in (schema.paths or {}).items():
        if not path.startswith("/api/"):
            continue
        statuses = dict(PROBLEM_STATUSES)
        if path in THROTTLED_PATHS:
            statuses[429] = "Too many failed sign-ins: wait, or ask an administrator to unlock"
        for method in ("get", "put", "post", "patch", "delete"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            for status, description in statuses.items():
                # Litestar's own 400 describes its default error body, not this API's.
                responses[str(status)] = OpenAPIResponse(description=description, content=answer)
            operation.responses = responses


EXCEPTION_HANDLERS = {
    InvalidInput: _invalid,
    ValidationException: _validation,
    TransitionRefused: _refused,
    NoticeRefused: _notice_refused,
    NotFound: _not_found,
    NotFoundException: _not_found,
    Forbidden: _forbidden,
    Conflict: _conflict,
    StaleDataError: _conflict,
    NotAuthorizedException: _unauthorised,
    HTTPException: _http,
    Exception: _server_error,
}

__all__ = ["EXCEPTION_HANDLERS", "MediaType", "problem"]
