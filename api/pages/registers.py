"""Register pages: a school's registers page and its reports (first-day contact list, persistent
absence, absence mapping), and a pupil's registration and attendance certificates (printable).

Thin, like the JSON API (``api.controllers.registers``): read the query, call the same scoped
services, render. A question the service cannot answer (end before start, a bad date) re-renders
the page's form with the error summary (422); anything outside the user's scope is "Page not
found".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from api.controllers.registers import read_choice, read_date, read_id, read_whole
from api.deps import unit_of_work
from api.pages.common import FormError, me, render, sentence
from casework import queries
from casework.analytics.totals import percent_text
from casework.errors import InvalidInput
from casework.registers import reports
from workflows import certificates

Text = Annotated[str | None, QueryParameter(max_length=40)]
DateText = Annotated[str | None, QueryParameter(name="date", max_length=40)]

LABELS = {
    "date": "Date",
    "start": "From",
    "end": "To",
    "on": "Date",
    "min_shared": "Sessions shared",
    "absence": "Absence counted",
    "school_id": "School",
}

ABSENCE_OPTIONS = [
    ("unauthorised", "Unauthorised absence only"),
    ("all", "All absence (authorised and unauthorised)"),
]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")


def _errors(exc: InvalidInput) -> list[FormError]:
    return [
        FormError(
            p.field if p.field in LABELS else "report",
            f"{LABELS.get(p.field, 'Report')}: {sentence(str(p.rule))}",
        )
        for p in exc.problems
    ]


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def _school(ctx, school_id: int) -> reports.SchoolRef:
    """The school (NotFound outside the user's scope), as plain data the template can read
    after the unit of work has closed."""
    school = queries.school(ctx.session, ctx.scope, school_id)
    return reports.SchoolRef(school.id, school.name, school.urn)


def _report(
    request: Request,
    template: str,
    school_id: int,
    asked: dict[str, str],
    build: Callable[[Any], dict[str, Any]],
) -> Template:
    """Render a report page: the school, the form as asked, and the report (or the errors)."""
    with unit_of_work(request) as ctx:
        context: dict[str, Any] = {
            "me": me(ctx),
            "school": _school(ctx, school_id),
            "asked": asked,
            "absence_options": ABSENCE_OPTIONS,
            "percent": percent_text,
            "report": None,
        }
        try:
            context.update(build(ctx))
        except InvalidInput as exc:
            context["errors"] = _errors(exc)
            return render(template, context, status=422)
    return render(template, context)


class RegisterPages(Controller):
    include_in_schema = False

    @get("/schools/{school_id:int}/registers", sync_to_thread=True)
    def school(self, request: Request, school_id: FromPath[int]) -> Template:
        with unit_of_work(request) as ctx:
            today = ctx.today()
            context = {
                "me": me(ctx),
                "school": _school(ctx, school_id),
                "today": today.isoformat(),
                "absence_options": ABSENCE_OPTIONS,
                "min_shared": reports.DEFAULT_MIN_SHARED,
            }
        return render("registers_school.html", context)

    @get("/schools/{school_id:int}/registers/absentees", sync_to_thread=True)
    def absentees(
        self, request: Request, school_id: FromPath[int], day: DateText = None
    ) -> Template:
        asked = {"date": day or ""}

        def build(ctx) -> dict[str, Any]:
            found = reports.absentees(ctx, school_id, read_date("date", day))
            asked["date"] = found.day.isoformat()
            return {"report": found}

        return _report(request, "registers_absentees.html", school_id, asked, build)

    @get("/schools/{school_id:int}/registers/persistent-absentees", sync_to_thread=True)
    def persistent(
        self, request: Request, school_id: FromPath[int], start: Text = None, end: Text = None
    ) -> Template:
        asked = {"start": start or "", "end": end or ""}

        def build(ctx) -> dict[str, Any]:
            found = reports.persistent_absentees(
                ctx, school_id, read_date("start", start), read_date("end", end)
            )
            asked.update(start=_iso(found.start), end=_iso(found.end))
            return {"report": found}

        return _report(request, "registers_persistent.html", school_id, asked, build)

    @get("/schools/{school_id:int}/registers/absence-map", sync_to_thread=True)
    def absence_map(
        self,
        request: Request,
        school_id: FromPath[int],
        start: Text = None,
        end: Text = None,
        min_shared: Text = None,
        absence: Text = None,
    ) -> Template:
        asked = {
            "start": start or "",
            "end": end or "",
            "min_shared": min_shared or str(reports.DEFAULT_MIN_SHARED),
            "absence": absence or "unauthorised",
        }

        def build(ctx) -> dict[str, Any]:
            first, last = read_date("start", start), read_date("end", end)
            shared = read_whole("min_shared", min_shared, reports.DEFAULT_MIN_SHARED, least=2)
            kind = read_choice("absence", absence, "unauthorised", reports.ABSENCE_KINDS)
            found = reports.absence_map(
                ctx, school_id, first, last, min_shared=shared, absence=kind
            )
            asked.update(start=_iso(found.start), end=_iso(found.end))
            return {"report": found}

        return _report(request, "registers_absence_map.html", school_id, asked, build)

    @get("/pupils/{pupil_id:int}/registration-certificate", sync_to_thread=True)
    def registration(self, request: Request, pupil_id: FromPath[int], on: Text = None) -> Template:
        with unit_of_work(request) as ctx:
            pupil = queries.pupil(ctx.session, ctx.scope, pupil_id)
            context: dict[str, Any] = {
                "me": me(ctx),
                "pupil_id": pupil.id,
                "pupil_name": pupil.display_name,
                "asked": {"on": on or ""},
                "percent": percent_text,
                "certificate": None,
            }
            try:
                found = certificates.registration_certificate(ctx, pupil_id, read_date("on", on))
            except InvalidInput as exc:
                context["errors"] = _errors(exc)
                return render("registers_registration.html", context, status=422)
            context["certificate"] = found
            context["asked"] = {"on": found.on.isoformat()}
        return render("registers_registration.html", context)

    @get("/pupils/{pupil_id:int}/attendance-certificate", sync_to_thread=True)
    def attendance(
        self,
        request: Request,
        pupil_id: FromPath[int],
        school_id: Text = None,
        start: Text = None,
        end: Text = None,
    ) -> Template:
        with unit_of_work(request) as ctx:
            pupil = queries.pupil(ctx.session, ctx.scope, pupil_id)
            names = {s.id: s.name for s in queries.schools(ctx.session, ctx.scope)}
            school_options = sorted(
                {
                    (e.school_id, names[e.school_id])
                    for e in pupil.enrolments
                    if e.school_id in names
                },
                key=lambda x: x[1],
            )
            context: dict[str, Any] = {
                "me": me(ctx),
                "pupil_id": pupil.id,
                "pupil_name": pupil.display_name,
                "school_options": school_options,
                "asked": {"school_id": school_id or "", "start": start or "", "end": end or ""},
                "percent": percent_text,
                "weekdays": WEEKDAYS,
                "certificate": None,
            }
            try:
                found = certificates.attendance_certificate(
                    ctx,
                    pupil_id,
                    read_id("school_id", school_id),
                    read_date("start", start),
                    read_date("end", end),
                )
            except InvalidInput as exc:
                context["errors"] = _errors(exc)
                return render("certificate.html", context, status=422)
            context["certificate"] = found
            context["asked"] = {
                "school_id": str(found.school.id),
                "start": found.start.isoformat(),
                "end": found.end.isoformat(),
            }
        return render("certificate.html", context)
