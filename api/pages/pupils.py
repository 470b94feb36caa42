"""The pupil page: who the pupil is, their family and schools, their cases, and opening one."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from api import present
from api.deps import unit_of_work
from api.pages.common import FormError, me, render, sentence, words
from casework import queries
from casework.errors import Conflict, Forbidden, InvalidInput
from casework.vocabulary import CaseKind, Role, Stage
from workflows.attendance import pupil_attendance
from workflows.cases import OPENING_STAGES, OpenCase, open_case

# Who the pupil page offers "Open a case" to.
OPENERS = (Role.SCHOOL_STAFF, Role.TRADED_OFFICER, Role.LA_MANAGER)

CHARACTERISTIC_WORDS = {
    "fsm": "Free school meals",
    "sen_support": "SEN support",
    "ehc_plan": "EHC plan",
    "looked_after": "Looked after",
    "social_worker": "Has a social worker",
    "young_carer": "Young carer",
    "eal": "English as an additional language",
}

OPEN_LABELS = {"school_id": "School", "stage": "Stage", "kind": "Kind of case", "reason": "Reason"}


class OpenCaseForm(msgspec.Struct):
    school_id: Annotated[str, msgspec.Meta(max_length=12)] = ""
    stage: Annotated[str, msgspec.Meta(max_length=40)] = ""
    kind: Annotated[str, msgspec.Meta(max_length=40)] = ""
    reason: Annotated[str, msgspec.Meta(max_length=10_000)] = ""


def current_schools(pupil, today, names: dict[int, str]) -> list[tuple[int, str]]:
    """Schools the pupil is on roll at now that the user works with."""
    return [
        (e.school_id, names[e.school_id])
        for e in sorted(pupil.enrolments, key=lambda e: e.start_date)
        if e.school_id in names and (e.end_date is None or e.end_date >= today)
    ]


def pupil_page(
    request: Request,
    pupil_id: int,
    *,
    errors: list[FormError] | None = None,
    submitted: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    with unit_of_work(request) as ctx:
        pupil = queries.pupil(ctx.session, ctx.scope, pupil_id)
        siblings = queries.siblings(ctx.session, ctx.scope, pupil)
        cases = queries.cases_of_pupil(ctx.session, ctx.scope, pupil.id)
        names = {s.id: s.name for s in queries.schools(ctx.session, ctx.scope)}
        shown = present.pupil(pupil, siblings, cases, ctx.profile, names)
        today = ctx.today()
        context = {
            "me": me(ctx),
            "pupil": shown,
            "attendance": pupil_attendance(ctx, pupil.id),
            "characteristics": [
                label for key, label in CHARACTERISTIC_WORDS.items() if shown.characteristics[key]
            ],
            "siblings": [
                {
                    "pupil": present.pupil_summary(s),
                    "schools": ", ".join(name for _, name in current_schools(s, today, names)),
                }
                for s in siblings
            ],
            "may_open": Role(ctx.actor.role) in OPENERS,
            "school_options": current_schools(pupil, today, names),
            "stage_options": [(s.value, s.label) for s in OPENING_STAGES],
            "kind_options": [(k.value, words(k.value)) for k in CaseKind],
            "opening": submitted
            or {"stage": Stage.MONITOR.value, "kind": CaseKind.IRREGULAR_ATTENDANCE.value},
            "errors": errors or [],
        }
    return render("pupil.html", context, status=status)


class PupilPages(Controller):
    path = "/pupils"
    include_in_schema = False

    @get("/{pupil_id:int}", sync_to_thread=True)
    def show(self, request: Request, pupil_id: FromPath[int]) -> Template:
        return pupil_page(request, pupil_id)

    @post("/{pupil_id:int}/cases", sync_to_thread=True)
    def open(
        self,
        request: Request,
        pupil_id: FromPath[int],
        data: Annotated[OpenCaseForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response:
        submitted = msgspec.structs.asdict(data)
        errors = []
        if not data.school_id.isdigit():
            errors.append(FormError("open-school_id", "School: choose the pupil's school"))
        if data.stage not in {s.value for s in OPENING_STAGES}:
            errors.append(
                FormError("open-stage", "Stage: choose Expect, Monitor or Listen and understand")
            )
        if data.kind not in {k.value for k in CaseKind}:
            errors.append(FormError("open-kind", "Kind of case: choose one"))
        if errors:
            return pupil_page(request, pupil_id, errors=errors, submitted=submitted, status=422)
        command = OpenCase(
            pupil_id=pupil_id,
            school_id=int(data.school_id),
            kind=CaseKind(data.kind),
            stage=Stage(data.stage),
            reason=data.reason,
        )
        try:
            with unit_of_work(request, write=True) as ctx:
                case_id = open_case(ctx, command).id
                ctx.commit()
        except InvalidInput as exc:
            errors = [
                FormError(
                    f"open-{p.field}" if p.field in OPEN_LABELS else "open-case",
                    f"{OPEN_LABELS.get(p.field, words(p.field))}: {p.rule}",
                )
                for p in exc.problems
            ]
            status = 422
        except Conflict as exc:
            errors, status = [FormError("open-case", sentence(str(exc)))], 409
        except Forbidden as exc:
            errors, status = [FormError("open-case", sentence(str(exc)))], 403
        else:
            return Redirect(f"/cases/{case_id}", status_code=303)
        return pupil_page(request, pupil_id, errors=errors, submitted=submitted, status=status)
