"""A case's court pack page (``/cases/{id}/pack``): choose the offence period, see what is missing
(blocking items and warnings), record the evidential and public-interest tests and the panel's
decision, build the pack acknowledging the warnings, and download and sign off built packs.

Thin, like the other pages: ``workflows.packs.service`` decides who may and what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy import select

from api.deps import unit_of_work
from api.pages.common import FormError, me, render
from api.pages.penalty_forms import PAGE, Form, Query, Short, Text, read_date, save
from casework.errors import InvalidInput
from casework.models import CaseEvent
from casework.registers.reports import year_start
from workflows.packs.completeness import (
    EVIDENTIAL_QUESTIONS,
    PANEL_LABELS,
    PUBLIC_INTEREST_QUESTIONS,
    Offence,
    Route,
)
from workflows.packs.content import latest_tests
from workflows.packs.service import (
    Answers,
    PackInput,
    PackView,
    build_pack,
    check_pack,
    packs_of,
    record_tests,
    sign_off,
)

DONE = {
    "tests": "The answers to the tests are recorded.",
    "built": "The pack is built. Download it below and sign it off.",
    "signed": "Your sign-off is recorded.",
}
ROUTE_WORDS = {
    Route.PROSECUTION.value: "Pre-court pack (prosecution)",
    Route.EDUCATIONAL_NEGLECT.value: "Educational neglect referral (Attendance of Vulnerable "
    "Children Group)",
}
# The service's field names as the page's (form field id, label).
FIELDS = {
    "start": ("start", "Start of the offence period"),
    "end": ("end", "End of the offence period"),
    "offence": ("offence", "Offence"),
    "court": ("court", "Court"),
    "route": ("route", "Bundle"),
    "panel_decision": ("panel_decision", "Panel decision"),
    "panel_on": ("panel_on", "Date of the panel"),
    **{f"evidential.{k}": (f"ev_{k}", "Answer") for k, _ in EVIDENTIAL_QUESTIONS},
    **{f"public_interest.{k}": (f"pi_{k}", "Answer") for k, _ in PUBLIC_INTEREST_QUESTIONS},
}


class PeriodForm(msgspec.Struct):
    start: Short = ""
    end: Short = ""
    offence: Short = Offence.S444_1.value
    court: Short = ""
    route: Short = Route.PROSECUTION.value


class BuildForm(PeriodForm):
    acknowledged: str | list[str] = msgspec.field(default_factory=list)


TestsForm = msgspec.defstruct(
    "TestsForm",
    [
        *((f"ev_{k}", Text, "") for k, _ in EVIDENTIAL_QUESTIONS),
        *((f"pi_{k}", Text, "") for k, _ in PUBLIC_INTEREST_QUESTIONS),
        ("evidential_met", Short, ""),
        ("public_interest_met", Short, ""),
        ("panel_decision", Short, ""),
        ("panel_on", Short, ""),
        ("panel_members", Text, ""),
        ("panel_note", Text, ""),
        ("no_interview_reason", Text, ""),
    ],
    bases=(PeriodForm,),
)


class SignOffForm(msgspec.Struct):
    statement: Text = ""


def _period(ctx, case, form: PeriodForm, errors: list[FormError]) -> PackInput | None:
    """The period asked for; when none is, the one the tests were last recorded for (so a case
    ready to build builds in one step), else this academic year to date."""
    tests = latest_tests(_events(ctx, case.id))
    if not (form.start or form.end) and tests is not None:
        return PackInput(
            tests.start, tests.end, tests.offence.value, form.court or tests.court, None, form.route
        )
    today = ctx.today()
    end = read_date(form.end, "end", "End of the offence period", errors, optional=True) or today
    start = read_date(form.start, "start", "Start of the offence period", errors, optional=True)
    if start is None:
        start = year_start(ctx.calendar_for(case.school_id), end)
    if errors:
        return None
    return PackInput(start, end, form.offence, form.court, None, form.route)


def _query(given: PackInput) -> str:
    return urlencode(
        {
            "start": given.start.isoformat(),
            "end": given.end.isoformat(),
            "offence": given.offence,
            "court": given.court,
            "route": given.route,
        }
    )


def pack_page(
    request: Request,
    case_id: int,
    form: PeriodForm,
    *,
    errors: list[FormError] | None = None,
    status: int = 200,
    done: str = "",
) -> Template:
    errors = list(errors or [])
    with unit_of_work(request) as ctx:
        case = ctx.case(case_id)
        given = _period(ctx, case, form, errors)
        packs = packs_of(ctx, case_id)  # refuses anyone but officers (403)
        completeness = None
        if given is not None:
            try:
                completeness = check_pack(ctx, case_id, given)
            except InvalidInput as exc:
                errors += [
                    FormError(*FIELDS[p.field][:1], f"{FIELDS[p.field][1]}: {p.rule}")
                    if p.field in FIELDS
                    else FormError(PAGE, p.rule)
                    for p in exc.problems
                ]
        tests = latest_tests(_events(ctx, case_id))
        return render(
            "pack.html",
            {
                "me": me(ctx),
                # Plain values: the template renders after the unit of work has closed.
                "case": {"id": case.id, "reference": case.reference},
                "pupil": case.pupil.display_name,
                "given": given,
                "form": form,
                "query": _query(given) if given else "",
                "completeness": completeness,
                "packs": [_shown(v) for v in packs],
                "tests": tests,
                "evidential": EVIDENTIAL_QUESTIONS,
                "public_interest": PUBLIC_INTEREST_QUESTIONS,
                "panel_options": list(PANEL_LABELS.items()),
                "offences": [(o.value, o.label) for o in Offence],
                "routes": list(ROUTE_WORDS.items()),
                "errors": errors,
                "done": DONE.get(done, ""),
                "role": ctx.actor.role,
            },
            status=status,
        )


def _shown(view: PackView) -> dict[str, Any]:
    p = view.pack
    return {
        "pack": {
            "id": p.id,
            "reference": p.reference,
            "pages": p.pages,
            "route": p.route,
            "offence": p.offence,
            "period_start": p.period_start,
            "period_end": p.period_end,
            "court": p.court,
            "built_at": p.built_at,
            "built_by_name": p.built_by_name,
            "pdf_sha256": p.pdf_sha256,
        },
        "sign_offs": view.sign_offs,
    }


def _events(ctx, case_id: int) -> Iterable[CaseEvent]:
    return ctx.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.sequence)
    )


def _back(case_id: int, given: PackInput, done: str) -> Redirect:
    return Redirect(f"/cases/{case_id}/pack?{_query(given)}&done={done}", status_code=303)


class PackPages(Controller):
    path = "/cases/{case_id:int}/pack"

    @get("/", sync_to_thread=True)
    def show(
        self,
        request: Request,
        case_id: FromPath[int],
        start: Query = "",
        end: Query = "",
        offence: Query = Offence.S444_1.value,
        court: Annotated[str, QueryParameter(max_length=200)] = "",
        route: Query = Route.PROSECUTION.value,
        done: Query = "",
    ) -> Template:
        form = PeriodForm(start, end, offence, court, route)
        return pack_page(request, case_id, form, done=done)

    @post("/tests", sync_to_thread=True)
    def tests(
        self, request: Request, case_id: FromPath[int], data: Form[TestsForm]
    ) -> Response | Template:
        errors: list[FormError] = []
        panel_on = read_date(data.panel_on, "panel_on", "Date of the panel", errors, optional=True)
        given = self._given(request, case_id, data, errors)
        if errors or given is None:
            return pack_page(request, case_id, data, errors=errors, status=422)
        answers = Answers(
            offence=given.offence,
            start=given.start,
            end=given.end,
            evidential={
                k: getattr(data, f"ev_{k}")
                for k, _ in EVIDENTIAL_QUESTIONS
                if getattr(data, f"ev_{k}").strip()
            },
            public_interest={k: getattr(data, f"pi_{k}") for k, _ in PUBLIC_INTEREST_QUESTIONS},
            evidential_met=data.evidential_met == "yes",
            public_interest_met=data.public_interest_met == "yes",
            panel_decision=data.panel_decision or None,
            panel_on=panel_on,
            panel_members=data.panel_members,
            panel_note=data.panel_note,
            no_interview_reason=data.no_interview_reason,
            court=given.court,
        )
        return self._save(
            request, case_id, data, given, lambda ctx: record_tests(ctx, case_id, answers), "tests"
        )

    @post("/build", sync_to_thread=True)
    def build(
        self, request: Request, case_id: FromPath[int], data: Form[BuildForm]
    ) -> Response | Template:
        errors: list[FormError] = []
        given = self._given(request, case_id, data, errors)
        if errors or given is None:
            return pack_page(request, case_id, data, errors=errors, status=422)
        acknowledged = (
            [data.acknowledged] if isinstance(data.acknowledged, str) else data.acknowledged
        )
        return self._save(
            request,
            case_id,
            data,
            given,
            lambda ctx: build_pack(ctx, case_id, given, acknowledged),
            "built",
        )

    @post("/{pack_id:int}/sign-off", sync_to_thread=True)
    def sign(
        self,
        request: Request,
        case_id: FromPath[int],
        pack_id: FromPath[int],
        data: Form[SignOffForm],
    ) -> Response | Template:
        saved = save(
            request,
            lambda ctx: sign_off(ctx, case_id, pack_id, data.statement),
            fields={},
            fallback=PAGE,
            stale="Another change to this case was saved first: try again",
        )
        if saved.errors:
            return pack_page(
                request, case_id, PeriodForm(), errors=saved.errors, status=saved.status
            )
        return Redirect(f"/cases/{case_id}/pack?done=signed", status_code=303)

    def _given(
        self, request: Request, case_id: int, data: PeriodForm, errors: list[FormError]
    ) -> PackInput | None:
        with unit_of_work(request) as ctx:
            return _period(ctx, ctx.case(case_id), data, errors)

    def _save(
        self, request: Request, case_id: int, data: Any, given: PackInput, change, done: str
    ) -> Response | Template:
        saved = save(
            request,
            change,
            fields=FIELDS,
            fallback=PAGE,
            stale="Another change to this case was saved first: try again",
        )
        if saved.errors:
            return pack_page(request, case_id, data, errors=saved.errors, status=saved.status)
        return _back(case_id, given, done)
