"""The imports pages: upload a register file (a CTF, or a CSV through a column mapping) for a
school in scope, watch its progress, and read what became of it with its validation report;
recent imports with their status; one import's page.

Imports run synchronously in the upload's request (``workflows.imports.run_import``, in a worker
thread, as the JSON API runs them): all-or-nothing unless a partial import is asked for, the same
bytes twice change nothing, and a rejected file leaves only its report. While the upload runs,
the page it was sent from stays on screen and polls ``/imports/progress`` (htmx, every second)
for the rows done so far, which this process records for the API's ``/api/imports/running``
too. When the import ends the browser lands on the import's page. Without JavaScript the upload
works the same, without the progress.

School staff, LA managers and administrators import (as the API); anyone else is "Not allowed".
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy import select

from api.controllers.imports import MAX_BODY, _lock, _one, _progress, _running, _visible
from api.deps import unit_of_work
from api.pages.common import FormError, is_number, me, render, sentence, words
from casework.errors import Forbidden, InvalidInput
from casework.models import ImportBatch, School, User
from casework.registers.csv_marks import mapping_names
from casework.vocabulary import Role
from workflows.context import Context
from workflows.imports import IMPORTERS, ImportResult, import_csv, import_ctf, run_import

RECENT = 25
STATUS_WORDS = {
    "imported": "Imported",
    "partial": "Partly imported",
    "rejected": "Rejected",
    "unchanged": "Already imported",
}
STATUS_TAGS = {
    "imported": "govuk-tag--green",
    "partial": "govuk-tag--yellow",
    "rejected": "govuk-tag--red",
    "unchanged": "govuk-tag--grey",
}
KIND_WORDS = {"ctf": "Common Transfer File (CTF)", "csv": "CSV of marks", "json": "Marks pushed"}
KIND_OPTIONS = [("ctf", "Common Transfer File (CTF, XML)"), ("csv", "CSV of marks")]
LABELS = {
    "file": "File",
    "kind": "Kind of file",
    "school_id": "School",
    "mapping": "Column mapping",
    "reason": "Reason",
}
COUNT_WORDS = {
    "new": "Marks recorded for the first time",
    "amended": "Marks changed (each recorded as an amendment)",
    "unchanged": "Marks already as the file says",
    "rows": "Rows in the file",
    "rows_skipped": "Rows left out",
    "pupils_skipped": "Pupils left out",
}
SHOWN = 100  # problems shown at first; the rest on asking
MOST_POLLS = 30  # while waiting for an upload to arrive and start


def _importer(ctx: Context) -> None:
    if Role(ctx.actor.role) not in IMPORTERS or Role(ctx.actor.role) is Role.INTEGRATION:
        raise Forbidden("only school staff, LA managers and administrators import registers")


def _schools(ctx: Context) -> list[School]:
    return list(
        ctx.session.scalars(select(School).where(ctx.scope.schools()).order_by(School.name))
    )


def _batch_row(batch: ImportBatch, schools: dict[int, str]) -> dict[str, Any]:
    return {
        "id": batch.id,
        "file_name": batch.file_name,
        "kind": KIND_WORDS.get(batch.kind, words(batch.kind)),
        "school": schools.get(batch.school_id or 0, ""),
        "status": batch.status,
        "status_words": STATUS_WORDS.get(batch.status, words(batch.status)),
        "tag": STATUS_TAGS.get(batch.status, "govuk-tag--grey"),
        "problem_count": batch.problem_count,
        "finished_at": batch.finished_at,
    }


def _running_for(user_id: int) -> list[dict[str, Any]]:
    with _lock:
        mine = [dict(e) for e in _running.values() if e["user_id"] == user_id]
    for entry in mine:
        done, total = entry["done"], entry["total"]
        entry["percent"] = int(done * 100 / total) if total else 0
    return mine


def imports_page(
    request: Request,
    *,
    form: dict[str, Any] | None = None,
    errors: list[FormError] | None = None,
    status: int = 200,
) -> Template:
    with unit_of_work(request) as ctx:
        _importer(ctx)
        schools = _schools(ctx)
        names = {s.id: s.name for s in schools}
        batches = ctx.session.scalars(_visible(ctx).order_by(ImportBatch.id.desc()).limit(RECENT))
        running = _running_for(ctx.actor.id)
        context = {
            "me": me(ctx),
            "active_section": "imports",
            "school_options": [(s.id, f"{s.name} ({s.urn})") for s in schools],
            "mapping_options": [(name, name.capitalize()) for name in mapping_names()],
            "kind_options": KIND_OPTIONS,
            "form": form
            or {
                "kind": "ctf",
                "mapping": "canonical",
                "school_id": str(schools[0].id) if len(schools) == 1 else "",
            },
            "batches": [_batch_row(b, names) for b in batches],
            "running": running,
            "poll": bool(running),
            "wait": 0,
            "errors": errors or [],
        }
    return render("imports.html", context, status=status)


def _read(data: dict[str, Any]) -> tuple[dict[str, Any], bytes | None, str]:
    def text(key: str, longest: int = 300) -> str:
        value = data.get(key, "")
        return value.strip()[:longest] if isinstance(value, str) else ""

    form = {
        "kind": text("kind", 10),
        "school_id": text("school_id", 20),
        "mapping": text("mapping", 100),
        "partial": text("partial", 10) == "yes",
        "reason": text("reason", 2000),
    }
    upload = data.get("file")
    content, file_name = None, ""
    if upload is not None and not isinstance(upload, str):
        file_name = (getattr(upload, "filename", "") or "").strip()[:300]
        content = upload.file.read()
    return form, content, file_name


class ImportPages(Controller):
    path = "/imports"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def list_page(self, request: Request) -> Template:
        return imports_page(request)

    @post("/", sync_to_thread=True, request_max_body_size=MAX_BODY)
    def upload(
        self,
        request: Request,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response:
        form, content, file_name = _read(data)
        errors = []
        if form["kind"] not in {k for k, _ in KIND_OPTIONS}:
            errors.append(FormError("upload-kind", "Choose the kind of file"))
        if not content:
            errors.append(FormError("upload-file", "Choose the file to import"))
        school_id = int(form["school_id"]) if is_number(form["school_id"]) else None
        if form["kind"] == "csv":
            if school_id is None:
                errors.append(FormError("upload-school_id", "Choose the school the CSV is for"))
            if form["mapping"] not in mapping_names():
                errors.append(FormError("upload-mapping", "Choose the column mapping"))
        if errors:
            return imports_page(request, form=form, errors=errors, status=422)
        assert content is not None
        partial, reason = form["partial"], form["reason"] or None
        if form["kind"] == "csv":
            file_name = file_name or "upload.csv"

            def call(ctx: Context, report) -> ImportResult:
                return import_csv(
                    ctx,
                    content,
                    school_id=school_id,
                    mapping=form["mapping"],
                    file_name=file_name,
                    partial=partial,
                    reason=reason,
                    progress=report,
                )

            logged_school = school_id
        else:
            file_name = file_name or "upload.xml"

            def call(ctx: Context, report) -> ImportResult:
                return import_ctf(
                    ctx,
                    content,
                    file_name=file_name,
                    partial=partial,
                    reason=reason,
                    progress=report,
                )

            logged_school = None

        def opened():
            return unit_of_work(request, write=True)

        def step(ctx: Context) -> ImportResult:
            _importer(ctx)
            with _progress(ctx, file_name) as report:
                return call(ctx, report)

        try:
            result = run_import(opened, step, partial=partial, school_id=logged_school)
        except InvalidInput as exc:
            errors = [
                FormError(
                    f"upload-{p.field}" if p.field in LABELS else "upload-file",
                    f"{LABELS.get(p.field, 'File')}: {sentence(str(p.rule))}",
                )
                for p in exc.problems
            ]
            return imports_page(request, form=form, errors=errors, status=422)
        return Redirect(f"/imports/{result.batch_id}", status_code=303)

    @get("/progress", sync_to_thread=True)
    def progress(
        self,
        request: Request,
        wait: Annotated[int, QueryParameter(ge=0, le=MOST_POLLS)] = 0,
        seen: Annotated[int, QueryParameter(ge=0, le=1)] = 0,
    ) -> Response:
        """The running imports' progress (an htmx fragment). ``wait`` polls that many more times
        while nothing is running yet (the upload is still arriving); ``seen`` says an import was
        seen running, so nothing running now means it has finished."""
        if request.headers.get("hx-request") != "true":
            return Redirect("/imports", status_code=303)  # a fragment: the page shows it
        with unit_of_work(request) as ctx:
            _importer(ctx)
            running = _running_for(ctx.actor.id)
        finished = not running and bool(seen)
        context = {
            "running": running,
            "poll": bool(running) or (wait > 0 and not finished),
            "wait": MOST_POLLS if running else max(wait - 1, 0),
            "seen": 1 if running or seen else 0,
            "waiting": not running and not finished and wait > 0,
            "finished": finished,
        }
        return render("imports_progress.html", context)

    @get("/{batch_id:int}", sync_to_thread=True)
    def batch(
        self,
        request: Request,
        batch_id: FromPath[int],
        show: Annotated[str | None, QueryParameter(max_length=10)] = None,
    ) -> Template:
        with unit_of_work(request) as ctx:
            _importer(ctx)
            found = _one(ctx, batch_id)
            school = ctx.session.get(School, found.school_id) if found.school_id else None
            by = ctx.session.get(User, found.by_user_id)
            problems = json.loads(json.dumps(found.problems or []))
            counts = dict(found.counts or {})
            earlier = counts.pop("already_imported_as", None)
            context = {
                "me": me(ctx),
                "active_section": "imports",
                "batch": _batch_row(found, {school.id: school.name} if school else {}),
                "started_at": found.started_at,
                "sha256": found.sha256,
                "partial_requested": found.partial_requested,
                "by": by.full_name if by else "",
                "counts": [
                    (COUNT_WORDS.get(k) or words(k), f"{v:,}" if isinstance(v, int) else v)
                    for k, v in counts.items()
                ],
                "earlier": earlier,
                "problems": problems if show == "all" else problems[:SHOWN],
                "kept": len(problems),
                "all_shown": show == "all" or len(problems) <= SHOWN,
            }
        return render("imports_batch.html", context)
