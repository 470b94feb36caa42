"""Enquiries to other LAs about earlier notices to a parent for a child, and the notices they
report: the limit of two in three years applies wherever a notice was issued (RULES.md §2.3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from casework.errors import FieldProblem, InvalidInput, NotFound
from casework.models import Case, PenaltyNoticeEnquiry, PriorPenaltyNotice, Pupil, PupilContact
from casework.vocabulary import EventKind
from workflows.context import Context
from workflows.penalties.notices import OFFICERS
from workflows.penalties.rules import NoticeStatus

REPORTED_STATUSES = (
    NoticeStatus.ISSUED.value,
    NoticeStatus.PAID.value,
    NoticeStatus.PROSECUTION.value,
    NoticeStatus.WITHDRAWN.value,
)


@dataclass
class ReportedNotice:
    their_reference: str
    issued_on: date
    status: str


@dataclass
class RecordEnquiry:
    pupil_id: int
    contact_id: int
    other_la: str
    asked_on: date
    answered_on: date
    answer: str
    notices: list[ReportedNotice] = field(default_factory=list)


def record_enquiry(ctx: Context, command: RecordEnquiry) -> PenaltyNoticeEnquiry:
    """Record another LA's answer and each notice it reported; each reported notice counts
    toward the limit like one issued here (withdrawn ones do not)."""
    ctx.require_role(*OFFICERS, doing="record enquiries to other LAs")
    pupil = ctx.session.scalars(
        select(Pupil).where(Pupil.id == command.pupil_id, ctx.scope.pupils())
    ).first()
    if pupil is None:
        raise NotFound("pupil", command.pupil_id)
    problems: list[FieldProblem] = []
    if ctx.session.get(PupilContact, (pupil.id, command.contact_id)) is None:
        problems.append(
            FieldProblem("contact_id", command.contact_id, "not a contact recorded for the pupil")
        )
    if not command.other_la.strip():
        problems.append(FieldProblem("other_la", command.other_la, "the LA that was asked"))
    if command.answered_on < command.asked_on or command.answered_on > ctx.today():
        problems.append(
            FieldProblem(
                "answered_on",
                command.answered_on.isoformat(),
                "on or after the day asked and not in the future",
            )
        )
    if not command.answer.strip():
        problems.append(FieldProblem("answer", command.answer, "what the other LA said"))
    for n, reported in enumerate(command.notices):
        where = f"notices[{n}]"
        if not reported.their_reference.strip():
            problems.append(
                FieldProblem(f"{where}.their_reference", reported.their_reference, "required")
            )
        if reported.status not in REPORTED_STATUSES:
            problems.append(
                FieldProblem(
                    f"{where}.status", reported.status, "one of: " + ", ".join(REPORTED_STATUSES)
                )
            )
        if reported.issued_on > command.answered_on:
            problems.append(
                FieldProblem(
                    f"{where}.issued_on",
                    reported.issued_on.isoformat(),
                    "after the answer was given",
                )
            )
    if problems:
        raise InvalidInput(problems)
    enquiry = PenaltyNoticeEnquiry(
        la_id=ctx.actor.la_id,
        pupil_id=pupil.id,
        contact_id=command.contact_id,
        other_la=command.other_la.strip(),
        asked_on=command.asked_on,
        answered_on=command.answered_on,
        answer=command.answer.strip(),
        notices_reported=len(command.notices),
        recorded_by_id=ctx.actor.id,
        recorded_at=ctx.now(),
    )
    ctx.session.add(enquiry)
    ctx.session.flush()
    for reported in command.notices:
        ctx.session.add(
            PriorPenaltyNotice(
                la_id=ctx.actor.la_id,
                pupil_id=pupil.id,
                contact_id=command.contact_id,
                enquiry_id=enquiry.id,
                issuing_la=enquiry.other_la,
                their_reference=reported.their_reference.strip(),
                issued_on=reported.issued_on,
                status=reported.status,
                recorded_by_id=ctx.actor.id,
                recorded_at=ctx.now(),
            )
        )
    for case in ctx.session.scalars(
        select(Case).where(Case.pupil_id == pupil.id, Case.stage != "closed", ctx.scope.cases())
    ):
        ctx.record(
            case,
            EventKind.PENALTY_NOTICE_ENQUIRY,
            reason=f"Enquiry to {enquiry.other_la} about earlier penalty notices: "
            f"{len(command.notices)} reported. {enquiry.answer}",
            data={
                "enquiry_id": enquiry.id,
                "contact_id": command.contact_id,
                "other_la": enquiry.other_la,
                "notices_reported": len(command.notices),
            },
        )
    ctx.session.flush()
    return enquiry
