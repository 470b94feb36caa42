"""ORM records to response shapes. Presentation only: no queries beyond loaded relations."""

from __future__ import annotations

from api import schemas as s
from casework.models import (
    ApprovalRequest,
    Attachment,
    Case,
    CaseEvent,
    Contact,
    Intervention,
    Pupil,
    PupilContact,
    Referral,
    Responsibility,
    School,
    User,
)
from casework.upn import is_temporary
from casework.vocabulary import CHARACTERISTICS, Stage
from config.profiles import Profile


def user(u: User) -> s.UserOut:
    return s.UserOut(
        u.id, u.username, u.full_name, u.position, u.role, u.la_id, sorted(u.school_ids)
    )


def school(sc: School, officer: User | None) -> s.SchoolOut:
    return s.SchoolOut(
        sc.id,
        sc.urn,
        sc.name,
        sc.phase,
        sc.la.la_number,
        sc.establishment_number,
        sc.traded_service,
        officer.full_name if officer else None,
        sc.attendance_lead_name,
        sc.attendance_lead_email,
    )


def case_summary(c: Case, profile: Profile) -> s.CaseSummary:
    level = profile.level_for(c.stage)
    return s.CaseSummary(
        id=c.id,
        reference=c.reference,
        pupil_id=c.pupil_id,
        pupil_name=c.pupil.display_name,
        school_id=c.school_id,
        school_name=c.school.name,
        kind=c.kind,
        stage=c.stage,
        stage_label=Stage(c.stage).label,
        level=level.number if level else None,
        level_name=level.name if level else None,
        owner_id=c.owner_id,
        owner_name=c.owner.full_name,
        team=c.team,
        opened_at=c.opened_at,
        closed_at=c.closed_at,
        outcome=c.outcome,
        version=c.version,
    )


def pupil_summary(p: Pupil) -> s.PupilSummary:
    return s.PupilSummary(p.id, p.upn, p.display_name, p.date_of_birth, p.nc_year, p.family_id)


def contact(link: PupilContact | None, c: Contact) -> s.ContactOut:
    address = ", ".join(x for x in (c.address_line1, c.address_line2, c.town, c.postcode) if x)
    name = " ".join(x for x in (c.title, c.forename, c.surname) if x)
    return s.ContactOut(
        c.id,
        name,
        link.relationship_to_pupil if link else "carer",
        link.parental_responsibility if link else False,
        address,
        c.phone,
        c.email,
    )


def pupil(
    p: Pupil,
    siblings: list[Pupil],
    cases: list[Case],
    profile: Profile,
    school_names: dict[int, str],
) -> s.PupilOut:
    legal = f"{p.legal_forename} {p.legal_surname}"
    return s.PupilOut(
        id=p.id,
        upn=p.upn,
        temporary_upn=is_temporary(p.upn),
        legal_name=legal,
        preferred_name=p.display_name,
        date_of_birth=p.date_of_birth,
        sex=p.sex,
        nc_year=p.nc_year,
        family_id=p.family_id,
        characteristics={k: getattr(p, k) for k in CHARACTERISTICS},
        contacts=[
            contact(link, link.contact) for link in sorted(p.contacts, key=lambda x: x.priority)
        ],
        enrolments=[
            s.EnrolmentOut(
                e.school_id,
                school_names.get(e.school_id, ""),
                e.start_date,
                e.end_date,
                e.registration,
            )
            for e in sorted(p.enrolments, key=lambda e: e.start_date)
        ],
        siblings=[pupil_summary(x) for x in siblings],
        cases=[case_summary(c, profile) for c in cases],
    )


def event(e: CaseEvent) -> s.EventOut:
    return s.EventOut(
        e.id,
        e.sequence,
        e.occurred_at,
        e.actor_name,
        e.actor_position,
        e.kind,
        e.from_stage,
        e.to_stage,
        e.reason,
        e.data,
        e.intervention_id,
    )


def intervention(i: Intervention, superseded: bool) -> s.InterventionOut:
    return s.InterventionOut(
        i.id,
        i.kind,
        i.occurred_on,
        i.recorded_at,
        i.staff_name,
        i.staff_position,
        list(i.attendees),
        i.family_engaged,
        i.outcome,
        i.summary,
        i.details,
        i.supersedes_id,
        superseded,
    )


def referral(r: Referral) -> s.ReferralOut:
    return s.ReferralOut(
        r.id, r.case_id, r.to_team, r.to_user_id, r.status, r.made_at, r.content, r.decision_reason
    )


def approval(a: ApprovalRequest) -> s.ApprovalOut:
    return s.ApprovalOut(
        a.id, a.case_id, a.target_stage, a.status, a.reason, a.requested_at, a.decision_reason
    )


def responsibility(r: Responsibility) -> s.ResponsibilityOut:
    return s.ResponsibilityOut(
        r.holder_id, r.holder.full_name, r.team, r.via, r.since, r.until, r.reason
    )


def attachment(a: Attachment) -> s.AttachmentOut:
    return s.AttachmentOut(
        a.id, a.filename, a.media_type, a.size, a.sha256, a.intervention_id, a.uploaded_at
    )
