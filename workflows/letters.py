"""Letters to parents: one per parent with parental responsibility, each addressed to them alone,
rendered to HTML and PDF, stored on the case as a numbered exhibit with the data it was made
from, and sent by email where the parent has an address (an outbox message with the PDF
attached) or else queued for printing (the school's print batch for the day).

Everything is rendered before anything is written: a missing field, a missing required element
or a template error refuses the whole send and leaves no row behind. Each letter appends one
``letter_sent`` event naming its exhibit number and how it was delivered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from io import BytesIO
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from casework.calendars import OutsideCalendar
from casework.calendars.model import academic_year_of
from casework.durations import add
from casework.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from casework.models import (
    Attachment,
    Case,
    Contact,
    Intervention,
    LocalAuthority,
    PenaltyNotice,
    PupilContact,
    School,
    User,
)
from casework.models.letters import EMAIL, PRINT, Letter
from casework.vocabulary import (
    Engagement,
    EventKind,
    InterventionKind,
    InterventionOutcome,
    Role,
    Stage,
)
from notifications.letters.fields import checked_extra
from notifications.letters.kinds import KINDS, SIGNATORY, LetterKind, kind_named
from notifications.letters.render import missing_elements, render_letter
from workflows.context import Context
from workflows.interventions import RecordIntervention, record_intervention
from workflows.policy import CASEWORK_ROLES, may_fire

if TYPE_CHECKING:
    from notifications.pdf import RenderedPdf

# The PDF renderer (reportlab), the outbox and pypdf are imported when a letter is made, not
# when the case workflows load: the scheduler and CLI start without them.

# The school attendance policy's first-day contact: a second letter "after three days of
# unexplained absence".
REPLY_WITHIN_SCHOOL_DAYS = 3
EMAIL_TEMPLATE = "letter/to_parent"

# How a parent reads each kind of support in a letter.
SUPPORT_WORDS: dict[str, str] = {
    InterventionKind.PHONE_CALL: "A phone call with you",
    InterventionKind.LETTER: "A letter to you",
    InterventionKind.MEETING_WITH_PARENT: "A meeting with you at school",
    InterventionKind.HOME_VISIT: "A home visit",
    InterventionKind.PUPIL_CHECK_IN: "Regular check-ins for your child at school",
    InterventionKind.ATTENDANCE_CONCERN_MEETING: "An Attendance Concern Meeting",
    InterventionKind.EARLY_HELP_ASSESSMENT: "An Early Help assessment",
    InterventionKind.TEAM_AROUND_THE_FAMILY: "Team Around the Family meetings",
    InterventionKind.ATTENDANCE_IMPROVEMENT_MEETING: "An Attendance Improvement Meeting and "
    "action plan",
    InterventionKind.REFERRAL: "A referral to another service",
    InterventionKind.ATTENDANCE_CONTRACT: "An attendance contract",
}
ENGAGEMENT_WORDS: dict[str, str] = {
    Engagement.ENGAGED: "you took part",
    Engagement.PARTLY: "you took part in some of it",
    Engagement.NOT_ENGAGED: "you did not take part",
    Engagement.DECLINED: "you said no to this",
    Engagement.NOT_APPLICABLE: "",
}
OUTCOME_WORDS: dict[str, str] = {
    InterventionOutcome.IMPROVED: "attendance improved",
    InterventionOutcome.SOME_IMPROVEMENT: "attendance improved a little",
    InterventionOutcome.NOT_IMPROVED: "attendance did not improve",
}
NOT_TAKEN_UP = {Engagement.DECLINED.value, Engagement.NOT_ENGAGED.value}
# How staff name each kind in the chronology (the titles are the parent's headings).
STAFF_NAMES: dict[str, str] = {
    "first_day_absence": "First-day absence letter",
    "concern_letter": "Concern letter",
    "attendance_concern_meeting": "Attendance Concern Meeting invitation",
    "aim_invitation": "AIM invitation",
    "aim_action_plan": "AIM action plan letter",
    "attendance_contract": "Attendance contract letter",
    "notice_to_improve": "Notice to Improve letter",
    "penalty_notice_warning": "Penalty notice warning letter",
    "penalty_notice": "Penalty notice letter",
}


# --- reading ----------------------------------------------------------------------------------


def letters_of(ctx: Context, case_id: int) -> list[Letter]:
    case = ctx.case(case_id)
    return list(
        ctx.session.scalars(
            select(Letter).where(Letter.case_id == case.id).order_by(Letter.exhibit_number)
        )
    )


def letter_of(ctx: Context, case_id: int, letter_id: int) -> Letter:
    case = ctx.case(case_id)
    found = ctx.session.scalars(
        select(Letter).where(Letter.id == letter_id, Letter.case_id == case.id)
    ).first()
    if found is None:
        raise NotFound("letter", letter_id)
    return found


def letter_pdf(ctx: Context, letter: Letter) -> Attachment:
    return ctx.session.get(Attachment, letter.attachment_id)


def print_batch(ctx: Context, school_id: int, day: date) -> tuple[bytes, list[Letter]]:
    """One PDF of the school's letters queued for printing on ``day`` (the stored PDFs, joined
    with pypdf), the school's and the cases' scope applied. NotFound when there are none."""
    from pypdf import PdfReader, PdfWriter

    school = ctx.session.scalars(
        select(School).where(School.id == school_id, ctx.scope.schools())
    ).first()
    if school is None:
        raise NotFound("school", school_id)
    letters = list(
        ctx.session.scalars(
            select(Letter)
            .join(Case, Case.id == Letter.case_id)
            .where(
                Letter.school_id == school.id,
                Letter.delivery == PRINT,
                Letter.letter_date == day,
                ctx.scope.cases(),
            )
            .order_by(Letter.id)
        )
    )
    if not letters:
        raise NotFound("print batch", f"{school_id} on {day.isoformat()}")
    writer = PdfWriter()
    for letter in letters:
        writer.append(PdfReader(BytesIO(letter_pdf(ctx, letter).content)))
    writer.add_metadata({"/Title": f"Letters to print: {school.name}, {day.isoformat()}"})
    out = BytesIO()
    writer.write(out)
    return out.getvalue(), letters


# --- sending ------------------------------------------------------------------------------------


@dataclass
class PreparedLetter:
    """One letter rendered and ready to store: what a preview shows and a send writes."""

    contact_id: int
    data: dict[str, Any]
    html: str
    pdf: RenderedPdf
    delivery: str
    note: str | None
    email: str | None
    # The record the letter belongs to (an AIM, a Notice to Improve), when its kind has one.
    intervention_id: int | None = None

    @property
    def recipient_name(self) -> str:
        return self.data["recipient"]["name"]

    @property
    def exhibit(self) -> int:
        return self.data["exhibit"]


def may_request(role: Role | str, letter_kind: LetterKind) -> str | None:
    """Why a user of ``role`` may not ask for a letter of this kind, or None when they may."""
    role = Role(role)
    if letter_kind.by_action_only:
        return f"a {letter_kind.title} letter is sent by its own action: " + (
            "issuing the notice (case action issue_notice_to_improve)"
            if letter_kind.key == "notice_to_improve"
            else "issuing the penalty notice"
        )
    if role == Role.SCHOOL_STAFF and not letter_kind.school_may_send:
        return f"only the LA's officers may send a {letter_kind.title} letter"
    return None


def requestable_kinds(role: Role | str) -> list[LetterKind]:
    """The kinds a user of ``role`` may send on request, in the letter chain's order."""
    role = Role(role)
    if role not in CASEWORK_ROLES:
        return []
    return [k for k in KINDS.values() if may_request(role, k) is None]


def _check_request(ctx: Context, kind: str) -> LetterKind:
    letter_kind = kind_named(kind)
    refusal = may_request(Role(ctx.actor.role), letter_kind)
    if refusal:
        raise Forbidden(refusal)
    return letter_kind


def request_letter(
    ctx: Context, case_id: int, kind: str, extra: Mapping[str, Any] | None = None
) -> list[Letter]:
    """A letter someone asks for (the API, the case page): school staff send the school's
    letters, officers any letter but those only their own case action sends (a Notice to
    Improve, a penalty notice)."""
    _check_request(ctx, kind)
    return send_letter(ctx, case_id, kind, extra=extra)


def preview_letter(
    ctx: Context, case_id: int, kind: str, extra: Mapping[str, Any] | None = None
) -> list[PreparedLetter]:
    """The letters ``request_letter`` would send, rendered but not stored: the same checks,
    the same path, nothing written."""
    _check_request(ctx, kind)
    return prepare_letters(ctx, case_id, kind, extra, lock=False)


def prepare_letters(
    ctx: Context,
    case_id: int,
    kind: str,
    extra: Mapping[str, Any] | None = None,
    *,
    lock: bool = True,
) -> list[PreparedLetter]:
    """One letter of ``kind`` per parent of the case's pupil with parental responsibility,
    rendered to HTML and PDF with the exhibit numbers they would take; nothing is written.
    InvalidInput naming the field when something it needs is missing."""
    letter_kind = kind_named(kind)
    if Role(ctx.actor.role) not in CASEWORK_ROLES:
        raise Forbidden("only casework staff send letters to parents")
    if BUILDERS[letter_kind.key] is None:
        raise InvalidInput.one(
            "kind", kind, "a penalty notice letter is made from its notice when it is issued"
        )
    # Locked (PostgreSQL) when sending: two letters sent at once get consecutive exhibit
    # numbers. A preview takes no lock: it writes nothing and its numbers are only indicative.
    case = ctx.case(case_id, for_update=lock)
    given = checked_extra(letter_kind.key, letter_kind.fields, extra)
    parents = _parents(ctx, case)
    common = _common(ctx, case, letter_kind)
    specific, intervention_id = BUILDERS[letter_kind.key](ctx, case, given)
    first = _next_exhibit(ctx, case.id)
    prepared = []
    for offset, (link, contact) in enumerate(parents):
        exhibit = first + offset
        data = {
            **common,
            **specific,
            "exhibit": exhibit,
            "reference": _reference(case, exhibit),
            "recipient": _recipient(contact, link),
        }
        item = _prepare(ctx, letter_kind, data, contact)
        item.intervention_id = intervention_id
        prepared.append(item)
    return prepared


def send_letter(
    ctx: Context, case_id: int, kind: str, *, extra: Mapping[str, Any] | None = None
) -> list[Letter]:
    """One letter of ``kind`` to each parent of the case's pupil with parental responsibility.
    InvalidInput naming the field when something it needs is missing; nothing is written then.

    A letter not tied to a record of its own (an AIM, a Notice to Improve) is support given:
    one ``letter`` intervention is recorded for the send (not per parent) and the letters
    point at it, so the chronology, the guards and the clocks see it like a recorded letter."""
    letter_kind = kind_named(kind)
    prepared = prepare_letters(ctx, case_id, kind, extra)
    case = ctx.case(case_id)
    intervention_id = prepared[0].intervention_id if prepared else None
    if intervention_id is None and prepared:
        intervention_id = _record_letter_intervention(ctx, case, letter_kind, prepared)
    return [
        _store(ctx, case, letter_kind, item, intervention_id=intervention_id) for item in prepared
    ]


def _record_letter_intervention(
    ctx: Context, case: Case, kind: LetterKind, prepared: list[PreparedLetter]
) -> int | None:
    """The ``letter`` intervention for one send, when the sender may record interventions on
    this case; else None (the letters still go, unlinked)."""
    if may_fire(Role(ctx.actor.role), "record_intervention") is not None:
        return None
    if case.stage == Stage.CLOSED:
        # A closed case takes no interventions (reopen first); the letter is still an exhibit.
        return None
    names = _and([item.recipient_name for item in prepared])
    exhibits = _and([str(item.exhibit) for item in prepared])
    plural = "s" if len(prepared) > 1 else ""
    name = STAFF_NAMES.get(kind.key, f"{kind.title} letter")
    summary = f"{name} sent to {names} (exhibit{plural} {exhibits})"
    item = record_intervention(
        ctx,
        case.id,
        RecordIntervention(
            kind=InterventionKind.LETTER.value,
            occurred_on=date.fromisoformat(prepared[0].data["letter_date"]),
            summary=summary,
            family_engaged=Engagement.NOT_APPLICABLE.value,
            outcome=InterventionOutcome.PENDING.value,
            details={"letter_kind": kind.key},
        ),
    )
    return item.id


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def send_penalty_notice_letter(ctx: Context, notice_id: int) -> Letter:
    """The issued penalty notice as a letter to its parent (the one notice template), stored
    as an exhibit and queued for printing: a notice is served by post, and its payment period
    runs from deemed receipt after posting. A second call returns the first letter."""
    from notifications.pdf import render_pdf
    from notifications.penalty_notice import (
        REQUIRED_ELEMENTS,
        check_complete,
        render_penalty_notice,
    )
    from workflows.penalties.letter import contents_of
    from workflows.penalties.notices import notice_for

    letter_kind = KINDS["penalty_notice"]
    notice: PenaltyNotice = notice_for(ctx, notice_id)
    already = ctx.session.scalars(
        select(Letter).where(Letter.penalty_notice_id == notice.id)
    ).first()
    if already is not None:
        return already
    contents = contents_of(ctx, notice)
    problems = check_complete(contents)
    if problems:
        raise InvalidInput(
            [FieldProblem(p.split(":", 1)[0], None, p.split(":", 1)[-1].strip()) for p in problems]
        )
    html = render_penalty_notice(contents, ctx.profile.key)
    missing = missing_elements(html, REQUIRED_ELEMENTS)
    if missing:
        raise _missing(letter_kind, missing)
    case = ctx.case(notice.case_id, for_update=True)
    exhibit = _next_exhibit(ctx, case.id)
    reference = _reference(case, exhibit)
    data = {
        "kind": letter_kind.key,
        "title": letter_kind.title,
        "reference": reference,
        "exhibit": exhibit,
        "letter_date": notice.posted_on.isoformat(),
        "notice": _json(asdict(contents)),
    }
    pdf = render_pdf(
        html,
        reference=reference,
        title=f"Penalty notice {notice.reference}",
        author=contents.la_name,
        created=notice.posted_on,
        subject=letter_kind.title,
    )
    item = PreparedLetter(
        notice.contact_id,
        data,
        html,
        pdf,
        PRINT,
        "Served by post: the payment period runs from deemed receipt after posting",
        None,
    )
    return _store(ctx, case, letter_kind, item, penalty_notice_id=notice.id)


def _prepare(
    ctx: Context, kind: LetterKind, data: dict[str, Any], contact: Contact
) -> PreparedLetter:
    from notifications.addresses import checked_address
    from notifications.pdf import render_pdf

    html = render_letter(kind, data, ctx.profile.key)
    missing = missing_elements(html, kind.required_elements)
    if missing:
        raise _missing(kind, missing)
    pdf = render_pdf(
        html,
        reference=data["reference"],
        title=f"{kind.title} ({data['reference']})",
        author=data["letterhead"][0],
        created=date.fromisoformat(data["letter_date"]),
        subject=kind.title,
    )
    delivery, note, email = PRINT, None, None
    if kind.post_only:
        note = "Served by post"
    elif contact.email:
        try:
            email = checked_address("email", contact.email)
            delivery = EMAIL
        except InvalidInput:
            note = "The email address on record is not valid: printed instead"
    return PreparedLetter(contact.id, data, html, pdf, delivery, note, email)


def _missing(kind: LetterKind, keys: list[str]) -> InvalidInput:
    return InvalidInput(
        [
            FieldProblem(
                f"element.{key}",
                None,
                f"the {kind.key} letter must contain: {kind.required_elements[key]}",
            )
            for key in keys
        ]
    )


def _store(
    ctx: Context,
    case: Case,
    kind: LetterKind,
    item: PreparedLetter,
    *,
    intervention_id: int | None = None,
    penalty_notice_id: int | None = None,
) -> Letter:
    reference = item.data["reference"]
    content = item.pdf.content
    attachment = Attachment(
        case_id=case.id,
        intervention_id=intervention_id,
        filename=f"{reference}.pdf",
        media_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by_id=ctx.actor.id,
        uploaded_at=ctx.now(),
    )
    ctx.session.add(attachment)
    ctx.session.flush()
    message = None
    if item.delivery == EMAIL:
        from notifications.outbox import enqueue

        message = enqueue(
            ctx.session,
            key=f"letter.{reference}",
            kind=f"letter_{kind.key}",
            la_id=case.la_id,
            to_address=item.email,
            template=EMAIL_TEMPLATE,
            context=_email_context(item.data, kind),
            subject=f"{kind.title} ({reference})",
            now=ctx.now(),
            case_id=case.id,
            caused_by_user_id=ctx.actor.id,
            recipient_contact_id=item.contact_id,
            attachments=[{"attachment_id": attachment.id}],
        )
        ctx.session.flush()
    letter = Letter(
        case_id=case.id,
        contact_id=item.contact_id,
        school_id=case.school_id,
        la_id=case.la_id,
        kind=kind.key,
        reference=reference,
        exhibit_number=item.data["exhibit"],
        letter_date=date.fromisoformat(item.data["letter_date"]),
        data=item.data,
        html=item.html,
        html_sha256=hashlib.sha256(item.html.encode()).hexdigest(),
        attachment_id=attachment.id,
        pages=item.pdf.pages,
        delivery=item.delivery,
        delivery_note=item.note,
        outbox_message_id=message.id if message is not None else None,
        intervention_id=intervention_id,
        penalty_notice_id=penalty_notice_id,
        created_by_id=ctx.actor.id,
        created_by_name=ctx.actor.full_name,
        created_at=ctx.now(),
    )
    ctx.session.add(letter)
    ctx.session.flush()
    how = "emailed" if item.delivery == EMAIL else "queued for printing"
    ctx.record(
        case,
        EventKind.LETTER_SENT,
        reason=f"{kind.title} letter, exhibit {letter.exhibit_number} ({reference}), {how}"
        + (f": {item.note}" if item.note else ""),
        data={
            "letter": letter.id,
            "reference": reference,
            "exhibit": letter.exhibit_number,
            "kind": kind.key,
            "contact": item.contact_id,
            "delivery": item.delivery,
            "attachment": attachment.id,
            "sha256": attachment.sha256,
            "pages": letter.pages,
            "message": letter.outbox_message_id,
        },
        intervention_id=intervention_id,
    )
    return letter


def _email_context(data: Mapping[str, Any], kind: LetterKind) -> dict[str, Any]:
    """The fields of the covering email (its wording is the template's, the LA's to change)."""
    child = data["child"]
    sender = data["sender"]
    return {
        "recipient_name": data["recipient"]["name"],
        "child_forename": child["forename"],
        "child_name": child["name"],
        "school_name": data["school"]["name"],
        "letter_title": kind.title,
        "reference": data["reference"],
        "phone": data["la"]["phone"],
        "reading_age_note": data["reading_age_note"],
        "sender_name": sender["name"],
        "sender_position": sender["position"],
        "sender_organisation": sender["organisation"],
    }


# --- what every letter holds ---------------------------------------------------------------------


def _parents(ctx: Context, case: Case) -> list[tuple[PupilContact, Contact]]:
    recorded = ctx.session.scalars(
        select(PupilContact)
        .where(PupilContact.pupil_id == case.pupil_id)
        .order_by(PupilContact.priority, PupilContact.contact_id)
    ).all()
    links = [link for link in recorded if link.parental_responsibility]
    if not links and recorded:
        # A "parent" for attendance includes anyone who has care of the child (s576 Education
        # Act 1996): a looked-after child's carer gets the letter when nobody holds PR here.
        first = recorded[0].priority
        links = [link for link in recorded if link.priority == first]
    if not links:
        raise InvalidInput.one(
            "parents",
            None,
            "no parent or carer with parental responsibility is recorded for the pupil: "
            "add one before a letter can be sent",
        )
    problems = [
        FieldProblem(f"contact.{link.contact_id}.address", None, "the parent's address is empty")
        for link in links
        if not (link.contact.address_line1 or "").strip()
        or not (link.contact.postcode or "").strip()
    ]
    if problems:
        raise InvalidInput(problems)
    return [(link, link.contact) for link in links]


def _filled(value: str | None) -> bool:
    return bool(value and value.strip())


def _recipient(contact: Contact, link: PupilContact) -> dict[str, Any]:
    title = (contact.title or "").strip()
    name = " ".join(part for part in (title, contact.forename, contact.surname) if part)
    salutation = (
        f"Dear {title} {contact.surname}" if title else f"Dear {contact.forename} {contact.surname}"
    )
    address = [
        line.strip()
        for line in (contact.address_line1, contact.address_line2, contact.town, contact.postcode)
        if line and line.strip()
    ]
    return {
        "contact_id": contact.id,
        "name": name,
        "salutation": salutation,
        "address": address,
        "relationship": link.relationship_to_pupil,
    }


def _reference(case: Case, exhibit: int) -> str:
    return f"LT-{case.reference}-{exhibit:02d}"


def _next_exhibit(ctx: Context, case_id: int) -> int:
    latest = ctx.session.scalar(
        select(func.max(Letter.exhibit_number)).where(Letter.case_id == case_id)
    )
    return (latest or 0) + 1


def _common(ctx: Context, case: Case, kind: LetterKind) -> dict[str, Any]:
    settings = ctx.profile.letters
    la = ctx.session.get(LocalAuthority, case.la_id)
    school = ctx.session.get(School, case.school_id)
    pupil = case.pupil
    actor = ctx.actor
    organisation = settings.letterhead[0]
    if kind.signed_by == SIGNATORY:
        sender = {
            "name": settings.signatory_name,
            "position": settings.signatory_position,
            "organisation": organisation,
        }
    else:
        sender = {
            "name": actor.full_name,
            "position": actor.position,
            "organisation": school.name if actor.role == Role.SCHOOL_STAFF else organisation,
        }
    return {
        "kind": kind.key,
        "title": kind.title,
        "letter_date": ctx.today().isoformat(),
        "case_reference": case.reference,
        "letterhead": list(settings.letterhead),
        "la": {"name": la.name, "phone": settings.phone, "email": settings.email},
        "child": {
            "name": f"{pupil.legal_forename} {pupil.legal_surname}",
            "forename": pupil.preferred_forename or pupil.legal_forename,
        },
        "school": {"name": school.name},
        "sender": sender,
        "contact": _contact_person(ctx, case, kind, school),
        "reading_age_note": settings.reading_age_note,
    }


def _contact_person(ctx: Context, case: Case, kind: LetterKind, school: School) -> dict[str, Any]:
    """Who the parent should contact: the school for the school's own letters, otherwise the
    officer holding the case, through the LA's attendance service."""
    settings = ctx.profile.letters
    actor = ctx.actor
    if kind.school_may_send and actor.role == Role.SCHOOL_STAFF:
        if school.attendance_lead_name:
            return {
                "name": school.attendance_lead_name,
                "position": "Attendance lead",
                "organisation": school.name,
                "phone": school.attendance_lead_phone or "",
                "email": school.attendance_lead_email or "",
            }
        return {
            "name": actor.full_name,
            "position": actor.position,
            "organisation": school.name,
            "phone": school.attendance_lead_phone or "",
            "email": actor.email,
        }
    owner: User = case.owner
    person = owner if owner.role != Role.SCHOOL_STAFF else actor
    if person.role == Role.SCHOOL_STAFF:
        person = None
    return {
        "name": person.full_name if person else settings.signatory_name,
        "position": person.position if person else settings.signatory_position,
        "organisation": settings.letterhead[0],
        "phone": settings.phone,
        "email": settings.email,
    }


def _json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


# --- what each kind adds -------------------------------------------------------------------------


def _attendance(ctx: Context, case: Case, given: Mapping[str, Any]) -> dict[str, Any] | None:
    """This school year's attendance from the pupil's registers; else the figures the sender
    gave; else None."""
    from casework.analytics.flags import mark_kind
    from casework.analytics.timeline import load_timeline

    today = ctx.today()
    since = date(academic_year_of(today), 9, 1)
    timeline = load_timeline(ctx.session, case.pupil_id, since, today)
    possible = attended = 0
    for mark in timeline.sessions:
        kind = mark_kind(mark, ctx.profile.analytics)
        possible += kind.possible
        attended += kind.attended
    figures_given = [name for name in ("attendance_percent", "sessions_missed") if name in given]
    expected = ctx.profile.analytics.concern_below_percent
    expected_text = f"{expected:g}"
    if possible:
        if figures_given:
            raise InvalidInput.one(
                f"extra.{figures_given[0]}",
                given[figures_given[0]],
                "the pupil's registers are held here: the letter quotes them, so leave this out",
            )
        missed = possible - attended
        return {
            "percent": round(100 * attended / possible, 1),
            "sessions_missed": missed,
            "days_missed": f"{missed / 2:g}",
            "since": since.isoformat(),
            "expected_percent": expected_text,
            "source": "registers",
        }
    if not figures_given:
        return None
    missing = [n for n in ("attendance_percent", "sessions_missed") if n not in given]
    if missing:
        raise InvalidInput.one(
            f"extra.{missing[0]}", None, "required with the other attendance figure"
        )
    return {
        "percent": given["attendance_percent"],
        "sessions_missed": given["sessions_missed"],
        "days_missed": f"{given['sessions_missed'] / 2:g}",
        "since": since.isoformat(),
        "expected_percent": expected_text,
        "source": "given by the sender",
    }


def _needs_attendance(ctx: Context, case: Case, given: Mapping[str, Any]) -> dict[str, Any]:
    found = _attendance(ctx, case, given)
    if found is None:
        raise InvalidInput(
            [
                FieldProblem(
                    f"extra.{name}",
                    None,
                    "required: the pupil's registers hold no marks this school year, so give "
                    "the figures the letter quotes",
                )
                for name in ("attendance_percent", "sessions_missed")
            ]
        )
    return found


def _meeting(ctx: Context, given: Mapping[str, Any]) -> dict[str, Any]:
    if given["meeting_date"] < ctx.today().isoformat():
        raise InvalidInput.one(
            "extra.meeting_date", given["meeting_date"], "the meeting cannot be in the past"
        )
    return {
        "date": given["meeting_date"],
        "time": given["meeting_time"],
        "place": given["meeting_place"],
    }


def _clock_date(ctx: Context, case: Case, clock: str, start: str) -> str | None:
    """``start`` plus the period of the profile's clock ``clock`` on the school's calendar."""
    rule = ctx.profile.active_clocks.get(clock)
    if rule is None or rule.period is None:
        return None
    try:
        return add(
            ctx.calendar_for(case.school_id), date.fromisoformat(start), rule.period.duration()
        ).isoformat()
    except OutsideCalendar:
        return None


def _latest(ctx: Context, case: Case, kind: InterventionKind) -> Intervention | None:
    from workflows.cases import current_interventions

    found = [i for i in current_interventions(ctx, case) if i.kind == kind.value]
    return max(found, key=lambda i: (i.occurred_on, i.id)) if found else None


def _first_day(ctx, case, given):
    today = ctx.today().isoformat()
    absence = given.get("absence_date", today)
    if absence > today:
        raise InvalidInput.one("extra.absence_date", absence, "cannot be in the future")
    return {"absence_date": absence, "reply_within_school_days": REPLY_WITHIN_SCHOOL_DAYS}, None


def _concern(ctx, case, given):
    return {"attendance": _needs_attendance(ctx, case, given)}, None


def _concern_meeting(ctx, case, given):
    return {
        "attendance": _needs_attendance(ctx, case, given),
        "meeting": _meeting(ctx, given),
    }, None


def _aim_invitation(ctx, case, given):
    rule = ctx.profile.active_clocks.get("aim_review")
    review = str(rule.period.duration()) if rule is not None and rule.period else None
    return {
        "meeting": _meeting(ctx, given),
        "attendees": given.get("attendees"),
        "review_after": review,
    }, None


def _aim_action_plan(ctx, case, given):
    aim = _latest(ctx, case, InterventionKind.ATTENDANCE_IMPROVEMENT_MEETING)
    actions = given.get("actions")
    if actions is None and aim is not None:
        recorded = (aim.details or {}).get("action_plan")
        items = recorded if isinstance(recorded, list) else str(recorded or "").split(";")
        actions = [
            {"action": str(item).strip(), "who": "As agreed at the meeting", "by": ""}
            for item in items
            if str(item).strip()
        ] or None
    if not actions:
        raise InvalidInput.one(
            "extra.actions", None, "required: no AIM with a recorded action plan is on this case"
        )
    meeting = given.get("meeting_date") or (aim.occurred_on.isoformat() if aim else None)
    if meeting is None:
        raise InvalidInput.one(
            "extra.meeting_date", None, "required: no AIM is recorded on this case"
        )
    return {
        "actions": actions,
        "meeting_date": meeting,
        "target": given.get("target"),
        "review_date": given.get("review_date") or _clock_date(ctx, case, "aim_review", meeting),
    }, aim.id if aim is not None else None


def _contract(ctx, case, given):
    start = given.get("start_date", ctx.today().isoformat())
    return {
        "parent_commitments": given["parent_commitments"],
        "support_commitments": given["support_commitments"],
        "start_date": start,
        "review_date": given.get("review_date")
        or _clock_date(ctx, case, "attendance_contract_review", start),
    }, None


def _penalty_amounts(ctx: Context) -> dict[str, int]:
    rules = ctx.profile.penalty_notices
    return {
        "discounted": rules.first_discounted_pence,
        "full": rules.first_full_pence,
        "repeat": rules.repeat_full_pence,
        "discount_days": rules.discount_days,
        "payment_days": rules.payment_days,
    }


def _threshold(ctx: Context) -> dict[str, int]:
    rules = ctx.profile.notice_to_improve
    return {
        "threshold_sessions": rules.threshold_sessions,
        "threshold_school_weeks": rules.threshold_school_weeks,
    }


def _notice_to_improve(ctx, case, given):
    notice = _latest(ctx, case, InterventionKind.NOTICE_TO_IMPROVE)
    if notice is None:
        raise InvalidInput.one(
            "notice_to_improve", None, "no Notice to Improve is recorded on this case"
        )
    details = notice.details or {}
    sessions = list(details.get("sessions_relied_on") or [])
    if not sessions:
        raise InvalidInput.one(
            "notice_to_improve.sessions_relied_on", None, "the notice lists no sessions"
        )
    support, declined = [], []
    for item in _current_support(ctx, case, notice):
        entry = {
            "what": SUPPORT_WORDS.get(item.kind, item.kind.replace("_", " ").capitalize()),
            "date": item.occurred_on.isoformat(),
            "response": "; ".join(
                w
                for w in (
                    ENGAGEMENT_WORDS.get(item.family_engaged, ""),
                    OUTCOME_WORDS.get(item.outcome, ""),
                )
                if w
            ),
        }
        support.append(entry)
        if (
            item.family_engaged in NOT_TAKEN_UP
            or item.outcome == InterventionOutcome.DECLINED.value
        ):
            declined.append(entry)
    settings = ctx.profile.letters
    return {
        "notice": {
            "issued_on": details.get("issued_on") or notice.occurred_on.isoformat(),
            "expires_on": details["expires_on"],
            "period": details.get("period") or str(ctx.profile.notice_to_improve.period.duration()),
            "sessions": sessions,
            "window_from": sessions[0]["date"],
            "window_to": sessions[-1]["date"],
            **_threshold(ctx),
        },
        "attendance": _attendance(ctx, case, {}),
        "support_so_far": support,
        "declined": declined,
        "further_support": list(settings.further_support),
        "sufficient_improvement": given.get("sufficient_improvement")
        or settings.sufficient_improvement,
        "early_penalty_grounds": settings.early_penalty_grounds,
        "penalty": _penalty_amounts(ctx),
    }, notice.id


def _current_support(ctx: Context, case: Case, notice: Intervention) -> list[Intervention]:
    from workflows.cases import current_interventions

    return sorted(
        (
            i
            for i in current_interventions(ctx, case)
            if i.kind in SUPPORT_WORDS and i.occurred_on <= notice.occurred_on
        ),
        key=lambda i: (i.occurred_on, i.id),
    )


def _penalty_warning(ctx, case, given):
    from notifications.penalty_notice import CODE_MEANINGS
    from workflows.cases import register_window

    sessions = given.get("sessions")
    if sessions is None:
        window = register_window(ctx, case.pupil_id) or ()
        sessions = [
            {"date": s.day.isoformat(), "session": s.session, "code": s.code} for s in window
        ] or None
    if not sessions:
        raise InvalidInput.one(
            "extra.sessions",
            None,
            "required: the pupil's registers show no unauthorised sessions to quote",
        )
    wrong = [s for s in sessions if s["code"] not in CODE_MEANINGS]
    if wrong:
        raise InvalidInput.one(
            "extra.sessions",
            wrong[0]["code"],
            f"only unauthorised absence is quoted: codes {', '.join(CODE_MEANINGS)}",
        )
    return {
        "warning": {
            "sessions": sessions,
            "window_from": sessions[0]["date"],
            "window_to": sessions[-1]["date"],
            **_threshold(ctx),
        },
        "penalty": _penalty_amounts(ctx),
    }, None


BUILDERS = {
    "first_day_absence": _first_day,
    "concern_letter": _concern,
    "attendance_concern_meeting": _concern_meeting,
    "aim_invitation": _aim_invitation,
    "aim_action_plan": _aim_action_plan,
    "attendance_contract": _contract,
    "notice_to_improve": _notice_to_improve,
    "penalty_notice_warning": _penalty_warning,
    "penalty_notice": None,  # send_penalty_notice_letter: one notice, one parent
}
