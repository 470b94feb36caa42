"""Register imports over HTTP: signed-in users under /api/imports, MIS integrations (bearer
token) under /api/integration. Thin: parse the request, call ``workflows.imports``, present.

A rejected import answers 422 with its validation report (line, field, value, rule for each
problem) and the id of the logged batch; nothing else was written. While an import runs, this
process lists its progress at ``GET /api/imports/running``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated, Any

import anyio
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from sqlalchemy import or_, select

from api.deps import integration_token_guard, integration_unit_of_work, unit_of_work
from api.errors import PROBLEM
from casework.errors import Forbidden, InvalidInput, NotFound
from casework.models import ImportBatch, School
from casework.registers.json_marks import parse_marks_json
from casework.registers.records import FileRejected
from casework.vocabulary import Role
from workflows.context import Context
from workflows.imports import ImportResult, import_csv, import_ctf, import_marks, run_import

MAX_BODY = 512 * 1024 * 1024  # a county's CTF can be large; parsers enforce their own limits
Flag = Annotated[bool, QueryParameter()]
FileName = Annotated[str, QueryParameter(max_length=300)]
Reason = Annotated[str | None, QueryParameter(max_length=2000)]

_running: dict[int, dict[str, Any]] = {}
_lock = threading.Lock()


class MarksPush(msgspec.Struct, forbid_unknown_fields=True):
    school_id: int
    marks: list[dict[str, Any]]
    partial: bool = False
    reason: str | None = None
    source: str = "api"


def _respond(result: ImportResult) -> Response[dict[str, Any]]:
    body = result.as_dict()
    if result.status == "rejected":
        detail = "; ".join(
            f"line {p.line}: {p.field} = {p.value!r}: {p.rule}" for p in result.problems[:5]
        )
        return Response(
            {
                "type": "about:blank",
                "title": "Import rejected",
                "status": 422,
                "detail": f"nothing was imported ({len(result.problems)} problem(s)): {detail}",
                "errors": body["problems"],
                "import": body,
            },
            status_code=422,
            media_type=PROBLEM,
        )
    return Response(body, status_code=200 if result.status == "unchanged" else 201)


@contextmanager
def _progress(ctx: Context, file_name: str) -> Iterator[Callable[[int, int], None]]:
    key = id(threading.current_thread()) ^ int(time.monotonic_ns())
    entry = {"user_id": ctx.actor.id, "file_name": file_name, "done": 0, "total": 0}
    with _lock:
        _running[key] = entry

    def report(done: int, total: int) -> None:
        entry["done"], entry["total"] = done, total

    try:
        yield report
    finally:
        with _lock:
            _running.pop(key, None)


def _marks(ctx: Context, push: MarksPush, body: bytes, report) -> ImportResult:
    try:
        rows, problems = parse_marks_json(push.marks)
    except FileRejected as rejected:
        raise InvalidInput([p.as_field_problem() for p in rejected.problems]) from None
    return import_marks(
        ctx,
        rows,
        problems,
        school_id=push.school_id,
        source_name=push.source,
        body=body,
        partial=push.partial,
        reason=push.reason,
        progress=report,
    )


def _decode_push(body: bytes) -> MarksPush:
    try:
        return msgspec.json.decode(body, type=MarksPush)
    except msgspec.ValidationError as bad:
        raise InvalidInput.one("body", "(JSON)", str(bad)) from None
    except msgspec.DecodeError:
        raise InvalidInput.one("body", "(not JSON)", "send a JSON object") from None


Opener = Callable[..., AbstractContextManager[Context]]


class ImportController(Controller):
    """Imports by signed-in school staff, LA managers and administrators (session cookie)."""

    path = "/imports"
    tags = ["imports"]
    # How a request becomes a Context; the integration subclass swaps in its bearer token.
    open_context: Opener = staticmethod(unit_of_work)

    async def _run(
        self,
        request: Request,
        call: Callable[[Context, Callable[[int, int], None]], ImportResult],
        *,
        file_name: str,
        partial: bool,
        school_id: int | None,
    ) -> Response[dict[str, Any]]:
        def work() -> Response[dict[str, Any]]:
            def opened():
                return self.open_context(request, write=True)

            def step(ctx: Context) -> ImportResult:
                with _progress(ctx, file_name) as report:
                    return call(ctx, report)

            return _respond(run_import(opened, step, partial=partial, school_id=school_id))

        # Imports are CPU and database work: run them off the event loop.
        return await anyio.to_thread.run_sync(work)

    @post("/ctf", request_max_body_size=MAX_BODY)
    async def ctf(
        self,
        request: Request,
        file_name: FileName = "upload.xml",
        partial: Flag = False,
        reason: Reason = None,
    ) -> Response[dict[str, Any]]:
        """A Common Transfer File (XML body): pupils, contacts, characteristics and marks."""
        data = await request.body()
        return await self._run(
            request,
            lambda ctx, report: import_ctf(
                ctx, data, file_name=file_name, partial=partial, reason=reason, progress=report
            ),
            file_name=file_name,
            partial=partial,
            school_id=None,
        )

    @post("/csv", request_max_body_size=MAX_BODY)
    async def csv(
        self,
        request: Request,
        school_id: Annotated[int, QueryParameter(ge=1, le=2**31 - 1)],
        mapping: Annotated[str, QueryParameter(max_length=100)] = "canonical",
        file_name: FileName = "upload.csv",
        partial: Flag = False,
        reason: Reason = None,
    ) -> Response[dict[str, Any]]:
        """A CSV of marks (body) read through a named column mapping."""
        data = await request.body()
        return await self._run(
            request,
            lambda ctx, report: import_csv(
                ctx,
                data,
                school_id=school_id,
                mapping=mapping,
                file_name=file_name,
                partial=partial,
                reason=reason,
                progress=report,
            ),
            file_name=file_name,
            partial=partial,
            school_id=school_id,
        )

    @post("/marks", request_max_body_size=MAX_BODY)
    async def marks(self, request: Request) -> Response[dict[str, Any]]:
        """Marks as JSON: ``{"school_id", "marks": [{"upn", "date", "session", "code"}]}``."""
        data = await request.body()
        push = _decode_push(data)
        return await self._run(
            request,
            lambda ctx, report: _marks(ctx, push, data, report),
            file_name=push.source,
            partial=push.partial,
            school_id=push.school_id,
        )

    @get("/", sync_to_thread=True)
    def list_imports(
        self,
        request: Request,
        school_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> list[dict[str, Any]]:
        with self.open_context(request) as ctx:
            query = _visible(ctx).order_by(ImportBatch.id.desc()).limit(limit)
            if school_id is not None:
                query = query.where(ImportBatch.school_id == school_id)
            return [_batch(b, with_problems=False) for b in ctx.session.scalars(query)]

    @get("/running", sync_to_thread=True)
    def running(self, request: Request) -> list[dict[str, Any]]:
        """Imports this process is running now for the caller, with their progress."""
        with self.open_context(request) as ctx:
            me = ctx.actor.id
        with _lock:
            mine = [dict(e) for e in _running.values() if e["user_id"] == me]
        return [{k: v for k, v in e.items() if k != "user_id"} for e in mine]

    @get("/{batch_id:int}", sync_to_thread=True)
    def get_import(self, request: Request, batch_id: FromPath[int]) -> dict[str, Any]:
        with self.open_context(request) as ctx:
            return _batch(_one(ctx, batch_id), with_problems=True)


class IntegrationController(ImportController):
    """The same imports for an MIS integration presenting its bearer token, for the token's
    schools only (a CTF naming another school is rejected by the import's own scope check)."""

    path = "/integration"
    tags = ["integration"]
    guards = [integration_token_guard]
    open_context: Opener = staticmethod(integration_unit_of_work)

    async def _run(
        self,
        request: Request,
        call: Callable[[Context, Callable[[int, int], None]], ImportResult],
        *,
        file_name: str,
        partial: bool,
        school_id: int | None,
    ) -> Response[dict[str, Any]]:
        def within_token(ctx: Context, report: Callable[[int, int], None]) -> ImportResult:
            # Refused before anything is read or written: the transaction is rolled back whole.
            if school_id is not None and school_id not in ctx.scope.school_ids:
                allowed = ", ".join(str(s) for s in sorted(ctx.scope.school_ids))
                raise Forbidden(
                    f"school_id = {school_id}: this token may push registers only for "
                    f"school {allowed}"
                )
            return call(ctx, report)

        return await super()._run(
            request, within_token, file_name=file_name, partial=partial, school_id=school_id
        )


def _visible(ctx: Context):
    query = select(ImportBatch).where(ImportBatch.la_id == ctx.actor.la_id)
    if ctx.scope.by_school:
        query = query.where(
            or_(
                ImportBatch.school_id.in_(select(School.id).where(ctx.scope.schools())),
                ImportBatch.by_user_id == ctx.actor.id,
            )
        )
    elif Role(ctx.actor.role) not in (Role.LA_MANAGER, Role.ADMIN):
        query = query.where(ImportBatch.by_user_id == ctx.actor.id)
    return query


def _one(ctx: Context, batch_id: int) -> ImportBatch:
    found = ctx.session.scalars(_visible(ctx).where(ImportBatch.id == batch_id)).first()
    if found is None:
        raise NotFound("import", batch_id)
    return found


def _batch(batch: ImportBatch, *, with_problems: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": batch.id,
        "school_id": batch.school_id,
        "kind": batch.kind,
        "file_name": batch.file_name,
        "sha256": batch.sha256,
        "status": batch.status,
        "partial_requested": batch.partial_requested,
        "counts": batch.counts,
        "problem_count": batch.problem_count,
        "started_at": batch.started_at.isoformat(),
        "finished_at": batch.finished_at.isoformat(),
    }
    if with_problems:
        out["problems"] = json.loads(json.dumps(batch.problems))
    return out
