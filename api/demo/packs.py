"""A demo case ready for its pre-court pack: the statutory officer (``statutory``) opens the case's
*Court pack* page (``/cases/{id}/pack``) and builds, checks and downloads the pack in one step.

Runs after the registers are imported (the certificate reads them). Among the Enforce cases whose
pupil has unauthorised absence since the Notice to Improve ran out, the one with the most is
chosen; the officer records what a pre-proceedings panel would have before it, through the
services: the education supervision order consideration where the story had none, and the
evidential and public-interest tests with the panel's decision to prosecute, for the period from
the notice's expiry to the last school day. The page then shows that period and court, with
nothing blocking.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import FixedClock
from casework.errors import CaseworkError
from casework.models import Case, CaseEvent, Intervention, User
from casework.registers.reports import year_start
from casework.vocabulary import EventKind, InterventionKind, InterventionOutcome, Stage
from workflows.certificates import attendance_certificate
from workflows.context import Context
from workflows.interventions import RecordIntervention, record_intervention
from workflows.packs.completeness import EVIDENTIAL_QUESTIONS, PUBLIC_INTEREST_QUESTIONS
from workflows.packs.service import Answers, PackInput, check_pack, record_tests

COURT = "Exampleton Magistrates' Court"
OFFICER = "statutory"
# The officer's answers, as a synthetic panel paper would put them.
EVIDENTIAL = {
    "registered_pupil": "Yes: the admission register shows the pupil on roll throughout.",
    "compulsory_school_age": "Yes: the pupil's date of birth puts them of compulsory school age.",
    "parent": "Yes: both named parents hold parental responsibility and live with the pupil.",
    "irregular_attendance": "Yes: the certified register shows the unauthorised absence listed "
    "in the attendance certificate.",
    "no_defence": "Yes: no leave was granted, no illness evidence was given and the school is "
    "within walking distance.",
}
PUBLIC_INTEREST = {
    "support_offered": "Early Help, an Attendance Improvement Meeting and an attendance contract "
    "were offered; the family did not engage.",
    "consulted": "The school and the family's early help worker know of no reason not to proceed.",
    "child_welfare": "No safeguarding, health or SEND concern explains the absence; continued "
    "absence harms the pupil's education.",
    "family_circumstances": "No bereavement, illness or caring responsibility was raised at the "
    "home visit or the meetings.",
    "proportionate": "An education supervision order was considered and would add no support the "
    "family has not already declined.",
}


def _period(ctx: Context, case: Case, notice: Intervention, as_at: date) -> tuple[date, date]:
    expired = date.fromisoformat(notice.details.get("expires_on", as_at.isoformat()))
    this_year = year_start(ctx.calendar_for(case.school_id), as_at)
    return max(expired, this_year), as_at


def _candidates(ctx: Context, la_id: int, as_at: date) -> list[tuple[int, Case, date, date]]:
    found = []
    cases = ctx.session.scalars(
        select(Case).where(Case.la_id == la_id, Case.stage == Stage.ENFORCE).order_by(Case.id)
    )
    for case in cases:
        notice = ctx.session.scalars(
            select(Intervention)
            .where(
                Intervention.case_id == case.id,
                Intervention.kind == InterventionKind.NOTICE_TO_IMPROVE,
            )
            .order_by(Intervention.id.desc())
        ).first()
        if notice is None:
            continue
        start, end = _period(ctx, case, notice, as_at)
        if start > end:
            continue
        try:
            unauthorised = attendance_certificate(
                ctx, case.pupil_id, case.school_id, start, end
            ).totals.unauthorised
        except CaseworkError:
            continue
        if unauthorised:
            found.append((unauthorised, case, start, end))
    return sorted(found, key=lambda f: (-f[0], f[1].id))


def _has(ctx: Context, case: Case, kind: str) -> bool:
    return (
        ctx.session.scalar(
            select(Intervention.id).where(
                Intervention.case_id == case.id, Intervention.kind == kind
            )
        )
        is not None
    )


def prepare_pack(factory: sessionmaker[Session], *, la_id: int, as_at: date) -> int | None:
    """Make one Enforce case ready for its pack; its id, or None when no case fits."""
    # At the registers' import and daily scan (16:00 UTC), so the chronology stays in order and
    # still falls within the school day's office hours in summer time (17:00 in London).
    clock = FixedClock(datetime.combine(as_at, time(16, 0), tzinfo=UTC))
    with factory() as session:
        officer = session.scalars(select(User).where(User.username == OFFICER)).first()
        if officer is None:
            return None
        ctx = Context.build(session, officer, clock)
        for _, case, start, end in _candidates(ctx, la_id, as_at):
            if not _has(ctx, case, InterventionKind.ESO_CONSIDERATION):
                record_intervention(
                    ctx,
                    case.id,
                    RecordIntervention(
                        kind=InterventionKind.ESO_CONSIDERATION,
                        occurred_on=as_at,
                        summary="Education supervision order considered at the pre-proceedings "
                        "panel (s447).",
                        outcome=InterventionOutcome.COMPLETED,
                        details={"decision": "not pursued"},
                    ),
                )
            interviewed = _has(ctx, case, InterventionKind.INTERVIEW_UNDER_CAUTION)
            record_tests(
                ctx,
                case.id,
                Answers(
                    offence="s444(1)",
                    start=start,
                    end=end,
                    evidential={
                        k: EVIDENTIAL[k] for k, _ in EVIDENTIAL_QUESTIONS if k in EVIDENTIAL
                    },
                    public_interest={k: PUBLIC_INTEREST[k] for k, _ in PUBLIC_INTEREST_QUESTIONS},
                    evidential_met=True,
                    public_interest_met=True,
                    panel_decision="prosecute",
                    panel_on=as_at,
                    panel_members="School Attendance Service Manager; two Legal Services "
                    "representatives",
                    panel_note="Support offered at every level and not engaged with; the "
                    "evidential and public-interest tests are met.",
                    no_interview_reason=""
                    if interviewed
                    else "s444(1) is a strict liability offence; the parents were told of the "
                    "consequences in the Notice to Improve.",
                    court=COURT,
                ),
            )
            given = PackInput(start, end, "s444(1)", COURT)
            if check_pack(ctx, case.id, given).ready:
                session.commit()
                return case.id
            session.rollback()
    return None


def ready_pack_case(session: Session) -> int | None:
    """The case the demo made ready for its court pack (its tests recorded), for the sign-in
    message: the latest case with recorded tests."""
    return session.scalar(
        select(CaseEvent.case_id)
        .where(CaseEvent.kind == EventKind.PACK_TESTS_RECORDED.value)
        .order_by(CaseEvent.occurred_at.desc(), CaseEvent.id.desc())
        .limit(1)
    )
