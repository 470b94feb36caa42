"""A notice's required contents, gathered from its record for the one notice template
(``notifications.penalty_notice``); the letters issue renders the same contents to PDF."""

from __future__ import annotations

from sqlalchemy import select

from casework.models import LocalAuthority, PenaltyNotice, PenaltyNoticeSession, School
from notifications.penalty_notice import (
    NoticeSession,
    Party,
    PenaltyNoticeContents,
    check_complete,
    render_penalty_notice,
)
from workflows.context import Context
from workflows.penalties.notices import notice_for
from workflows.penalties.rules import WITHDRAWAL_LABELS, WithdrawalGround

# Grounds a parent may raise; "not prosecuting" is the LA's own decision after 28 days.
PARENT_GROUNDS = tuple(
    WITHDRAWAL_LABELS[g] for g in WithdrawalGround if g != WithdrawalGround.NOT_PROSECUTING
)


def contents_of(ctx: Context, notice: PenaltyNotice) -> PenaltyNoticeContents:
    """The contents of an issued notice, as it was addressed and dated."""
    if notice.issued_on is None:
        raise ValueError("a draft has no date of issue or payment period yet")
    la = ctx.session.get(LocalAuthority, notice.la_id)
    school = ctx.session.get(School, notice.school_id)
    payment = ctx.profile.penalty_notices.payment
    sessions = ctx.session.scalars(
        select(PenaltyNoticeSession)
        .where(PenaltyNoticeSession.notice_id == notice.id)
        .order_by(PenaltyNoticeSession.day, PenaltyNoticeSession.session)
    )
    return PenaltyNoticeContents(
        reference=notice.reference,
        la_name=la.name,
        la_address_lines=tuple(payment.address),
        payment_methods=tuple(payment.methods),
        recipient=Party(notice.recipient["name"], tuple(notice.recipient["address"])),
        child_name=f"{notice.pupil.legal_forename} {notice.pupil.legal_surname}",
        child_date_of_birth=notice.pupil.date_of_birth,
        school_name=school.name,
        issuing_officer_name=notice.issued_by_name or "",
        issuing_officer_position=notice.issued_by_position or "",
        reason=notice.reason,
        offence_from=notice.offence_from,
        offence_to=notice.offence_to,
        sessions=tuple(NoticeSession(s.day, s.session, s.code) for s in sessions),
        date_of_issue=notice.issued_on,
        posted_on=notice.posted_on,
        received_on=notice.received_on,
        ordinal=notice.ordinal,
        amount_discounted_pence=notice.amount_discounted_pence,
        discount_until=notice.discount_until,
        amount_full_pence=notice.amount_full_pence,
        pay_by=notice.pay_by,
        withdrawal_grounds=PARENT_GROUNDS,
    )


def notice_html(ctx: Context, notice_id: int) -> str:
    """The notice as the parent receives it; refuses (ValueError) if a required element is
    missing, so an incomplete notice is never shown as if it could be sent."""
    notice = notice_for(ctx, notice_id)
    contents = contents_of(ctx, notice)
    problems = check_complete(contents)
    if problems:
        raise ValueError("; ".join(problems))
    return render_penalty_notice(contents, ctx.profile.key)
