"""The court pack's content: a :class:`~workflows.packs.document.PackDocument` assembled from the
case record alone, for a chosen offence period, offence, court and parents.

Two bundles come from one record:

- the **pre-court pack** (prosecution under s444(1) or s444(1A)): the offence, the chronology,
  the attendance certificate for the period (only unauthorised absence is evidence), the
  year-to-date and previous year's registers, the graduated response by level and by DfE stage,
  the Notice to Improve, penalty notices, the attendance contract, the interview under caution,
  the education supervision order consideration, the evidential and public-interest tests with
  the panel's decision, a draft witness statement for the school, and the exhibits;
- Knowsley's **educational-neglect referral** to the Attendance of Vulnerable Children Group:
  attendance (75 % or below), the engagement history and the support refused.

Reading only: nothing is written here. The same record gives the same document (everything is
ordered by date then by its id, and the document's date is the day it was read), so the renderer
gives the same bytes. Pack audit events (built, downloaded, signed off) are left out of the
chronology: they are about the pack, not the case, and would make each build differ.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from casework.errors import InvalidInput
from casework.models import (
    Attachment,
    Case,
    CaseEvent,
    Contact,
    Intervention,
    LocalAuthority,
    PupilContact,
)
from casework.models.letters import Letter
from casework.registers.reports import year_start
from casework.vocabulary import (
    OPEN_STAGES,
    CaseKind,
    Engagement,
    EventKind,
    InterventionKind,
    InterventionOutcome,
    Stage,
)
from notifications.letters.kinds import KINDS
from workflows.cases import current_interventions
from workflows.certificates import AttendanceCertificate, GridWeek, attendance_certificate
from workflows.context import Context
from workflows.facts import InterventionFact
from workflows.guards import long_date
from workflows.packs.completeness import (
    PUBLIC_INTEREST_QUESTIONS,
    Offence,
    PackFacts,
    RecordedTests,
    Route,
    limit_for,
    percent_text,
    questions_for,
)
from workflows.packs.document import (
    Block,
    Exhibit,
    Facts,
    Heading,
    PackDocument,
    Paragraph,
    Section,
    Signature,
    Table,
)
from workflows.penalties.register import history

UK = ZoneInfo("Europe/London")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Events about the pack itself, not the case (see the module docstring).
PACK_EVENTS = frozenset(
    {EventKind.PACK_BUILT.value, EventKind.PACK_DOWNLOADED.value, EventKind.PACK_SIGNED_OFF.value}
)
NONE_RECORDED = "None recorded."

EVENT_WORDS: dict[str, str] = {
    EventKind.OPENED: "Case opened",
    EventKind.STAGE_CHANGED: "Stage changed",
    EventKind.NOTICE_TO_IMPROVE_ISSUED: "Notice to Improve issued",
    EventKind.PROSECUTION_STARTED: "Prosecution started",
    EventKind.CLOSED: "Case closed",
    EventKind.REOPENED: "Case reopened",
    EventKind.INTERVENTION_RECORDED: "Recorded",
    EventKind.ASSIGNED: "Case assigned",
    EventKind.REFERRED: "Referral made",
    EventKind.REFERRAL_ACCEPTED: "Referral accepted",
    EventKind.REFERRAL_RETURNED: "Referral returned",
    EventKind.APPROVAL_REQUESTED: "Manager approval requested",
    EventKind.APPROVAL_DECIDED: "Manager approval decided",
    EventKind.ATTACHMENT_ADDED: "Document added",
    EventKind.DEADLINE_REMINDER: "Deadline reminder",
    EventKind.DEADLINE_PASSED: "Deadline passed",
    EventKind.DEADLINE_MOVED: "Deadline moved",
    EventKind.FLAG_RAISED: "Attendance flag raised",
    EventKind.FLAG_CLEARED: "Attendance flag cleared",
    EventKind.PENALTY_CONSIDERED: "Penalty notice considered: support continues",
    EventKind.PENALTY_NOTICE_REQUESTED: "Penalty notice requested",
    EventKind.PENALTY_NOTICE_REQUEST_DECIDED: "Penalty notice request decided",
    EventKind.PENALTY_NOTICE_DRAFTED: "Penalty notice drafted",
    EventKind.PENALTY_NOTICE_CANCELLED: "Penalty notice draft cancelled",
    EventKind.PENALTY_NOTICE_ISSUED: "Penalty notice issued",
    EventKind.PENALTY_NOTICE_PAID: "Penalty notice paid",
    EventKind.PENALTY_NOTICE_WITHDRAWN: "Penalty notice withdrawn",
    EventKind.PENALTY_NOTICE_PROSECUTION: "Penalty notice: decision to prosecute",
    EventKind.PENALTY_NOTICE_ENQUIRY: "Penalty notice enquiry to another LA",
    EventKind.MESSAGE_FAILED: "Email not delivered",
    EventKind.MESSAGE_RETRIED: "Email retried",
    EventKind.LETTER_SENT: "Letter sent",
    EventKind.NOTE: "Note",
    EventKind.PACK_TESTS_RECORDED: "Evidential and public-interest tests recorded",
}
KIND_WORDS: dict[str, str] = {
    InterventionKind.PHONE_CALL: "Phone call",
    InterventionKind.LETTER: "Letter",
    InterventionKind.MEETING_WITH_PARENT: "Meeting with parent",
    InterventionKind.HOME_VISIT: "Home visit",
    InterventionKind.PUPIL_CHECK_IN: "Pupil check-in",
    InterventionKind.ATTENDANCE_CONCERN_MEETING: "Attendance concern meeting",
    InterventionKind.EARLY_HELP_ASSESSMENT: "Early Help assessment",
    InterventionKind.TEAM_AROUND_THE_FAMILY: "Team Around the Family",
    InterventionKind.ATTENDANCE_IMPROVEMENT_MEETING: "Attendance Improvement Meeting",
    InterventionKind.REFERRAL: "Referral to another service",
    InterventionKind.ATTENDANCE_CONTRACT: "Attendance contract",
    InterventionKind.NOTICE_TO_IMPROVE: "Notice to Improve",
    InterventionKind.PENALTY_NOTICE: "Penalty notice",
    InterventionKind.INTERVIEW_UNDER_CAUTION: "Interview under caution",
    InterventionKind.ESO_CONSIDERATION: "Education supervision order considered",
}
ENGAGEMENT_WORDS: dict[str, str] = {
    Engagement.ENGAGED: "Engaged",
    Engagement.PARTLY: "Partly engaged",
    Engagement.NOT_ENGAGED: "Did not engage",
    Engagement.DECLINED: "Declined",
    Engagement.NOT_APPLICABLE: "",
}
OUTCOME_WORDS: dict[str, str] = {
    InterventionOutcome.PENDING: "Pending",
    InterventionOutcome.IMPROVED: "Improved",
    InterventionOutcome.SOME_IMPROVEMENT: "Some improvement",
    InterventionOutcome.NOT_IMPROVED: "Not improved",
    InterventionOutcome.COMPLETED: "Completed",
    InterventionOutcome.DECLINED: "Declined",
}
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")
# The s9 Criminal Justice Act 1967 declaration a witness statement carries.
S9_DECLARATION = (
    "This statement is true to the best of my knowledge and belief and I make it knowing that, "
    "if it is tendered in evidence, I shall be liable to prosecution if I have wilfully stated "
    "in it anything which I know to be false, or do not believe to be true."
)


@dataclass(frozen=True)
class PackRequest:
    """What the officer chooses: the route, the offence and its period, the court and parents."""

    start: date
    end: date
    offence: Offence
    court: str
    contact_ids: tuple[int, ...]
    route: Route = Route.PROSECUTION


@dataclass(frozen=True)
class Parent:
    contact_id: int
    name: str
    address: str
    relationship: str
    parental_responsibility: bool


@dataclass
class Record:
    """Everything the pack reads from the case, read once."""

    case: Case
    la_name: str
    parents: list[Parent]  # the parents the pack names
    events: list[CaseEvent]
    interventions: list[Intervention]  # as they now stand (corrections applied)
    # Every intervention id (originals and corrections) -> the record as it now stands, and
    # -> every id in its chain (a letter or document names the original record).
    current_of: dict[int, Intervention]
    chain_of: dict[int, frozenset[int]]
    letters: list[Letter]
    attachments: dict[int, Attachment]
    certificate: AttendanceCertificate
    tests: RecordedTests | None
    contract_rationale: str
    notice_to_improve_rationale: str
    created: date


# --- reading the record --------------------------------------------------------------------------


def uk_date(moment: datetime) -> date:
    return moment.astimezone(UK).date()


def _name(contact: Contact) -> str:
    return " ".join(p for p in (contact.title, contact.forename, contact.surname) if p)


def _address(contact: Contact) -> str:
    parts = (contact.address_line1, contact.address_line2, contact.town, contact.postcode)
    return ", ".join(p for p in parts if p)


def parents_for(ctx: Context, case: Case, contact_ids: Iterable[int]) -> list[Parent]:
    """The named contacts of the case's pupil, in the order given; InvalidInput naming the
    contact that is not the pupil's."""
    links = {
        link.contact_id: link
        for link in ctx.session.scalars(
            select(PupilContact).where(PupilContact.pupil_id == case.pupil_id)
        )
    }
    found = []
    for contact_id in contact_ids:
        link = links.get(contact_id)
        if link is None:
            raise InvalidInput.one("contact_ids", contact_id, "is not a contact of the pupil")
        found.append(
            Parent(
                contact_id,
                _name(link.contact),
                _address(link.contact),
                link.relationship_to_pupil,
                link.parental_responsibility,
            )
        )
    return found


def latest_tests(events: Iterable[CaseEvent]) -> RecordedTests | None:
    found = None
    for event in events:
        if event.kind == EventKind.PACK_TESTS_RECORDED:
            found = RecordedTests.from_data(event.data)
    return found


def _rationale(events: Iterable[CaseEvent], guard: str) -> str:
    """The latest rationale recorded under ``guard`` when the case moved (``rationales``)."""
    found = ""
    for event in events:
        text = (event.data or {}).get("rationales", {}).get(guard)
        if text:
            found = str(text)
    return found


def _chains(ctx: Context, case: Case) -> dict[str, dict]:
    """Each intervention's supersession chain: a correction supersedes the record before it."""
    rows = {
        i.id: i
        for i in ctx.session.scalars(select(Intervention).where(Intervention.case_id == case.id))
    }
    newer = {i.supersedes_id: i.id for i in rows.values() if i.supersedes_id}
    current_of: dict[int, Intervention] = {}
    chain_of: dict[int, frozenset[int]] = {}
    for ident in rows:
        head = ident
        while head in newer:
            head = newer[head]
        chain = [head]
        while rows[chain[-1]].supersedes_id in rows:
            chain.append(rows[chain[-1]].supersedes_id)
        current_of[ident] = rows[head]
        chain_of[ident] = frozenset(chain)
    return {"current_of": current_of, "chain_of": chain_of}


def read_record(ctx: Context, case: Case, request: PackRequest) -> Record:
    events = list(
        ctx.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.sequence)
        )
    )
    letters = list(
        ctx.session.scalars(
            select(Letter).where(Letter.case_id == case.id).order_by(Letter.exhibit_number)
        )
    )
    attachments = {
        a.id: a
        for a in ctx.session.scalars(
            select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)
        )
    }
    la = ctx.session.get(LocalAuthority, case.la_id)
    return Record(
        case=case,
        la_name=la.name if la else "",
        parents=parents_for(ctx, case, request.contact_ids),
        events=events,
        interventions=sorted(current_interventions(ctx, case), key=lambda i: (i.occurred_on, i.id)),
        **_chains(ctx, case),
        letters=letters,
        attachments=attachments,
        certificate=attendance_certificate(
            ctx, case.pupil_id, case.school_id, request.start, request.end
        ),
        tests=latest_tests(events),
        contract_rationale=_rationale(events, "attendance_contract"),
        notice_to_improve_rationale=_rationale(events, "notice_to_improve_expired"),
        created=ctx.today(),
    )


def pack_facts(ctx: Context, record: Record, request: PackRequest, previous_packs: int = 0):
    """The completeness check's snapshot of the record."""
    totals = record.certificate.totals
    return PackFacts(
        route=request.route,
        offence=request.offence,
        start=request.start,
        end=request.end,
        today=record.created,
        stage=record.case.stage,
        holiday_case=record.case.kind == CaseKind.TERM_TIME_HOLIDAY,
        interventions=tuple(
            InterventionFact(i.id, i.kind, i.occurred_on, i.family_engaged, i.outcome, i.details)
            for i in record.interventions
        ),
        parents=sum(1 for p in record.parents if p.parental_responsibility),
        possible=totals.possible,
        attended=totals.attended,
        unauthorised=totals.unauthorised,
        unmarked=record.certificate.unmarked,
        letters=len(record.letters),
        support_kinds=frozenset(ctx.profile.formalise.support_kinds),
        neglect_at_or_below_percent=ctx.profile.analytics.neglect_at_or_below_percent,
        contract_rationale=record.contract_rationale,
        notice_to_improve_rationale=record.notice_to_improve_rationale,
        tests=record.tests,
        previous_packs=previous_packs,
        court=request.court,
    )


# --- exhibits ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exhibits:
    items: tuple[Exhibit, ...]
    by_attachment: dict[int, str]  # attachment id -> label

    def label(self, attachment_id: object) -> str:
        return self.by_attachment.get(attachment_id, "") if isinstance(attachment_id, int) else ""


def exhibits_of(record: Record) -> Exhibits:
    """Letters (their stored PDFs) and the case's other documents, numbered EX1.. in date order
    (ties in the order they were made)."""
    candidates: list[tuple[date, int, Attachment, str, str]] = []
    letter_pdfs = set()
    for letter in record.letters:
        pdf = record.attachments.get(letter.attachment_id)
        if pdf is None:
            continue
        letter_pdfs.add(pdf.id)
        title = KINDS[letter.kind].title if letter.kind in KINDS else letter.kind
        recipient = (letter.data or {}).get("recipient", {}).get("name", "")
        what = f"{title} letter" + (f" to {recipient}" if recipient else "")
        candidates.append((letter.letter_date, pdf.id, pdf, what, f"letter {letter.reference}"))
    for attachment in record.attachments.values():
        if attachment.id in letter_pdfs:
            continue
        candidates.append(
            (
                uk_date(attachment.uploaded_at),
                attachment.id,
                attachment,
                attachment.filename,
                f"attachment {attachment.id}",
            )
        )
    candidates.sort(key=lambda c: (c[0], c[1]))
    items = []
    labels = {}
    for n, (on, _, attachment, title, source) in enumerate(candidates, start=1):
        label = f"EX{n}"
        labels[attachment.id] = label
        items.append(
            Exhibit(
                label=label,
                title=title,
                on=on,
                filename=attachment.filename,  # the renderer adds the label in the ZIP
                media_type=attachment.media_type,
                content=attachment.content,
                sha256=attachment.sha256,
                source=source,
            )
        )
    return Exhibits(tuple(items), labels)


# --- small helpers ------------------------------------------------------------------------------


def short_date(day: date) -> str:
    """A date in a narrow table column: 6 Nov 2024."""
    return f"{day.day} {day:%b %Y}"


def words(value: str) -> str:
    return value.replace("_", " ").capitalize() if value else ""


def _kind(kind: str) -> str:
    return KIND_WORDS.get(kind, words(kind))


def _details(details: dict) -> str:
    """An intervention's details as "key: value" text (lists joined), in key order."""
    parts = []
    for key in sorted(details):
        value = details[key]
        if isinstance(value, list):
            if value and isinstance(value[0], dict):
                value = f"{len(value)} listed"
            else:
                value = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in sorted(value.items()))
        elif isinstance(value, str) and ISO_DATE.fullmatch(value):
            value = long_date(date.fromisoformat(value))
        parts.append(f"{words(key)}: {value}")
    return "; ".join(parts)


def _intervention_exhibits(record: Record, exhibits: Exhibits, intervention_id: int) -> str:
    """The exhibits made for an intervention or any earlier record it corrects."""
    chain = record.chain_of.get(intervention_id, frozenset({intervention_id}))
    found = [
        exhibits.by_attachment[a.id]
        for a in record.attachments.values()
        if a.intervention_id in chain and a.id in exhibits.by_attachment
    ]
    found += [
        exhibits.by_attachment[letter.attachment_id]
        for letter in record.letters
        if letter.intervention_id in chain and letter.attachment_id in exhibits.by_attachment
    ]
    return ", ".join(sorted(set(found), key=lambda label: int(label[2:])))


def _stage_label(stage: str | None) -> str:
    return Stage(stage).label if stage in Stage._value2member_map_ else (stage or "")


def stage_on(record: Record, day: date) -> str:
    """The case's stage on ``day``, from the events that moved it (the opening stage before)."""
    moves = [e for e in record.events if e.to_stage]
    current = moves[0].to_stage if moves else record.case.stage
    for event in moves:
        if uk_date(event.occurred_at) <= day:
            current = event.to_stage
    return current or record.case.stage


# --- sections ------------------------------------------------------------------------------------


def cover(record: Record, request: PackRequest, limit: date) -> tuple[tuple[str, str], ...]:
    pupil = record.certificate.pupil
    school = record.certificate.school
    rows: list[tuple[str, str]] = []
    if request.route == Route.PROSECUTION:
        rows.append(("Court", request.court))
    for n, parent in enumerate(record.parents, start=1):
        label = "Parent" if len(record.parents) == 1 else f"Parent {n}"
        rows.append((label, f"{parent.name}, {parent.address} ({parent.relationship})"))
    rows += [
        ("Pupil", f"{pupil.legal_name}, born {long_date(pupil.date_of_birth)}, UPN {pupil.upn}"),
        ("School", f"{school.name} (URN {school.urn})"),
    ]
    if request.route == Route.PROSECUTION:
        rows.append(("Offence", request.offence.label))
    rows += [
        ("Period", f"{long_date(request.start)} to {long_date(request.end)}"),
        ("Local authority", record.la_name),
        ("Case reference", record.case.reference),
    ]
    if request.route == Route.PROSECUTION:
        rows.append(("Information to be laid by", long_date(limit)))
    return tuple(rows)


def offence_section(record: Record, request: PackRequest) -> Section:
    pupil = record.certificate.pupil
    school = record.certificate.school
    knowing = request.offence == Offence.S444_1A
    blocks: list[Block] = [
        Facts(
            (
                ("Offence", request.offence.label),
                ("Period", f"{long_date(request.start)} to {long_date(request.end)}"),
                ("Court", request.court),
            )
        )
    ]
    for parent in record.parents:
        blocks.append(Heading(parent.name))
        blocks.append(
            Paragraph(
                f"Between {long_date(request.start)} and {long_date(request.end)}, being the "
                f"parent of {pupil.legal_name}, a child of compulsory school age who was a "
                f"registered pupil at {school.name}, "
                + (
                    "knowing that the child was failing to attend regularly at the school, "
                    "failed without reasonable justification to cause the child to do so"
                    if knowing
                    else "failed to secure the child's regular attendance at the school"
                )
                + f", contrary to section {'444(1A)' if knowing else '444(1)'} of the Education "
                "Act 1996."
            )
        )
    return Section("offence", "Statement of offence", tuple(blocks))


def chronology_rows(record: Record, exhibits: Exhibits) -> list[tuple[date, int, tuple[str, ...]]]:
    """One row per case event (pack audit events aside), dated when it happened: an
    intervention on the day it took place, with its engagement and outcome as they now stand."""
    interventions = record.current_of
    # A superseding outcome's event points at the new record; both show, each as recorded.
    rows = []
    for event in record.events:
        if event.kind in PACK_EVENTS:
            continue
        data = event.data or {}
        on = uk_date(event.occurred_at)
        what = EVENT_WORDS.get(event.kind, words(event.kind))
        engaged = outcome = ""
        exhibit = exhibits.label(data.get("attachment"))
        detail = event.reason or ""
        if event.kind == EventKind.ATTACHMENT_ADDED and not detail:
            detail = str(data.get("filename") or "")
        if event.kind == EventKind.INTERVENTION_RECORDED or (
            event.intervention_id and event.kind == EventKind.NOTE
        ):
            kind = data.get("intervention", "")
            what = _kind(kind) if kind else what
            if data.get("supersedes"):
                # A later outcome: dated when it was recorded, the original row keeps its own.
                what = f"{what}: outcome recorded"
            on = date.fromisoformat(data["occurred_on"]) if data.get("occurred_on") else on
            # As recorded at the time (a later outcome is its own row); else as it now stands.
            current = interventions.get(event.intervention_id or 0)
            engaged = ENGAGEMENT_WORDS.get(
                data.get("family_engaged") or (current.family_engaged if current else ""), ""
            )
            outcome = OUTCOME_WORDS.get(
                data.get("outcome") or (current.outcome if current else ""), ""
            )
        elif event.to_stage or event.from_stage:
            what = f"{what}: {_stage_label(event.from_stage)} to {_stage_label(event.to_stage)}"
            if event.kind == EventKind.OPENED:
                what = f"Case opened at {_stage_label(event.to_stage)}"
        if event.intervention_id and not exhibit:
            # What was made for the record (a Notice to Improve's letters, a meeting's notes).
            exhibit = _intervention_exhibits(record, exhibits, event.intervention_id)
        rationales = data.get("rationales") or {}
        if rationales:
            detail += " " + " ".join(
                f"Rationale ({words(k)}): {v}." for k, v in sorted(rationales.items())
            )
        rows.append(
            (
                on,
                event.sequence,
                (
                    short_date(on),
                    what,
                    detail.strip(),
                    f"{event.actor_name}, {event.actor_position}",
                    engaged,
                    outcome,
                    exhibit,
                ),
            )
        )
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows


def chronology_section(record: Record, exhibits: Exhibits) -> Section:
    rows = chronology_rows(record, exhibits)
    return Section(
        "chronology",
        "Chronology",
        (
            Paragraph(
                "Every event recorded on the case, in date order: contacts, meetings, letters, "
                "referrals, support offered, whether the family engaged and the outcome. "
                "Interventions are dated the day they took place."
            ),
            Table(
                ("Date", "What", "Details", "By", "Engaged", "Outcome", "Exhibit"),
                tuple(r[2] for r in rows),
                widths=CHRONOLOGY_WIDTHS,
            ),
        ),
    )


def _grid_table(weeks: Iterable[GridWeek], caption: str) -> Table:
    rows = []
    for week in weeks:
        cells = [long_date(week.monday)]
        for day in week.days:
            for cell in (day.am, day.pm):
                if not cell.in_period:
                    cells.append("")
                elif not cell.open:
                    cells.append("-")
                else:
                    cells.append(cell.code or "?")
        rows.append(tuple(cells))
    headers = ("Week beginning", *(f"{d} {h}" for d in DAYS for h in ("AM", "PM")))
    return Table(headers, tuple(rows), widths=(2.0,) + (0.6,) * 10, caption=caption)


GRID_KEY = (
    "Each cell is the register code for the session. '-' the school was closed; '?' open but no "
    "mark recorded; blank outside the period."
)


def _totals_facts(certificate: AttendanceCertificate) -> Facts:
    t = certificate.totals
    return Facts(
        (
            ("Possible sessions", str(t.possible)),
            ("Sessions attended", f"{t.attended} ({percent_text(t.attended, t.possible)})"),
            ("Authorised absence", str(t.authorised)),
            (
                "Unauthorised absence",
                f"{t.unauthorised} ({percent_text(t.unauthorised, t.possible)})",
            ),
            ("Not possible (not counted)", str(t.not_possible)),
        )
    )


def certificate_section(record: Record, request: PackRequest) -> Section:
    c = record.certificate
    blocks: list[Block] = [
        Paragraph(
            f"{c.statement} of {c.school.name} (URN {c.school.urn}) for {c.pupil.legal_name}, "
            f"from {long_date(c.start)} to {long_date(c.end)}. Only unauthorised absence is "
            "relied on as evidence."
        ),
        Facts(
            tuple(
                (
                    "Admission",
                    f"{long_date(a.starting_day)}"
                    + (f" to {long_date(a.end_date)}" if a.end_date else " (on roll)")
                    + f", {a.registration} registration",
                )
                for a in c.admissions
            )
        ),
        _totals_facts(c),
        Heading("Unauthorised absence relied on"),
        Table(
            ("Date", "Session", "Code", "Meaning"),
            tuple((long_date(e.day), e.session, e.code, e.meaning) for e in c.unauthorised)
            or (("", "", "", "No unauthorised absence in the period"),),
            widths=(1.5, 0.8, 0.6, 4.0),
        ),
        Heading("Register for the period"),
        _grid_table(c.weeks, GRID_KEY),
        Heading("Codes used"),
        Table(
            ("Code", "Meaning", "Sessions"),
            tuple((k.code, k.meaning, str(k.sessions)) for k in c.key),
            widths=(0.6, 4.0, 1.0),
        ),
    ]
    if c.amendments:
        blocks += [
            Heading("Amendments to the register in the period"),
            Table(
                ("Date", "Session", "Original", "New", "Reason", "By", "When"),
                tuple(
                    (
                        long_date(a.day),
                        a.session,
                        a.original or "(none)",
                        a.new,
                        a.reason,
                        f"{a.by_name}, {a.by_position}",
                        long_date(uk_date(a.amended_at)),
                    )
                    for a in c.amendments
                ),
            ),
        ]
    blocks.append(Signature("Headteacher (certifying the register extract)"))
    return Section(
        "attendance_certificate",
        "Attendance certificate for the "
        + ("offence period" if request.route == Route.PROSECUTION else "period"),
        tuple(blocks),
    )


def register_section(
    ctx: Context, record: Record, key: str, title: str, start: date, end: date
) -> Section:
    """A register extract as week grids with totals (for information: the certificate above is
    the evidence)."""
    if end < start:
        return Section(key, title, (Paragraph(NONE_RECORDED),))
    try:
        certificate = attendance_certificate(
            ctx, record.case.pupil_id, record.case.school_id, start, end
        )
    except InvalidInput as refused:
        # For information only: a year the school's calendar cannot lay out is said, not fatal.
        reasons = "; ".join(p.rule for p in refused.problems)
        return Section(key, title, (Paragraph(f"No register extract: {reasons}."),))
    return Section(
        key,
        title,
        (
            Paragraph(
                f"From {long_date(start)} to {long_date(end)}. For information: the attendance "
                "certificate for the offence period is the evidence."
            ),
            _totals_facts(certificate),
            _grid_table(certificate.weeks, GRID_KEY),
        ),
    )


def year_periods(ctx: Context, record: Record) -> tuple[tuple[date, date], tuple[date, date]]:
    """This academic year to the pack's date, and the whole of the previous academic year."""
    calendar = ctx.calendar_for(record.case.school_id)
    today = record.created
    this_start = year_start(calendar, today)
    previous_end = this_start - timedelta(days=1)
    previous_start = year_start(calendar, previous_end)
    return (this_start, today), (previous_start, previous_end)


def _intervention_row(record: Record, exhibits: Exhibits, i: Intervention) -> tuple[str, ...]:
    return (
        short_date(i.occurred_on),
        _kind(i.kind),
        i.summary,
        f"{i.staff_name}, {i.staff_position}",
        ENGAGEMENT_WORDS.get(i.family_engaged, ""),
        OUTCOME_WORDS.get(i.outcome, ""),
        _intervention_exhibits(record, exhibits, i.id),
    )


INTERVENTION_HEADERS = (
    "Date",
    "What was offered",
    "Details",
    "By",
    "Engaged",
    "Outcome",
    "Exhibit",
)
# The last column holds "EX12, EX13" and its heading "Exhibit" on one line.
INTERVENTION_WIDTHS = (1.0, 1.3, 2.6, 1.3, 1.0, 1.1, 1.1)
CHRONOLOGY_WIDTHS = INTERVENTION_WIDTHS


def graduated_response_section(ctx: Context, record: Record, exhibits: Exhibits) -> Section:
    by_stage: dict[str, list[Intervention]] = defaultdict(list)
    for i in record.interventions:
        by_stage[stage_on(record, i.occurred_on)].append(i)
    blocks: list[Block] = [
        Paragraph(
            f"What was offered and when, by the {ctx.profile.name} levels of the graduated "
            "response and by the DfE stages (Working together to improve school attendance)."
        )
    ]
    for level in ctx.profile.levels:
        items = [i for stage in level.stages for i in by_stage.get(stage, [])]
        items.sort(key=lambda i: (i.occurred_on, i.id))
        stages = ", ".join(_stage_label(s) for s in level.stages)
        blocks.append(Heading(f"Level {level.number}: {level.name} ({stages})"))
        if level.description:
            blocks.append(Paragraph(level.description))
        blocks.append(
            Table(
                INTERVENTION_HEADERS,
                tuple(_intervention_row(record, exhibits, i) for i in items)
                or (("", NONE_RECORDED, "", "", "", "", ""),),
                widths=INTERVENTION_WIDTHS,
            )
        )
    blocks.append(Heading("By DfE stage"))
    blocks.append(
        Table(
            ("Stage", "Entered", "Offered at this stage"),
            tuple(
                (
                    stage.label,
                    _entered(record, stage),
                    "; ".join(
                        f"{_kind(i.kind)} ({long_date(i.occurred_on)})" for i in by_stage[stage]
                    )
                    or "-",
                )
                for stage in OPEN_STAGES
                if by_stage.get(stage) or _entered(record, stage)
            ),
            widths=(1.5, 1.5, 5.0),
        )
    )
    return Section("graduated_response", "Evidence of the graduated response", tuple(blocks))


def _entered(record: Record, stage: str) -> str:
    days = [uk_date(e.occurred_at) for e in record.events if e.to_stage == stage]
    return ", ".join(long_date(d) for d in days)


def _kind_section(
    record: Record, exhibits: Exhibits, key: str, title: str, kind: str, none: str
) -> tuple[list[Intervention], list[Block]]:
    items = [i for i in record.interventions if i.kind == kind]
    blocks: list[Block] = []
    for i in items:
        rows = [
            ("Date", long_date(i.occurred_on)),
            ("Recorded by", f"{i.staff_name}, {i.staff_position}"),
            ("Summary", i.summary),
        ]
        if i.attendees:
            rows.append(("Present", ", ".join(i.attendees)))
        if i.family_engaged != Engagement.NOT_APPLICABLE:
            rows.append(("Family engaged", ENGAGEMENT_WORDS.get(i.family_engaged, "")))
        rows.append(("Outcome", OUTCOME_WORDS.get(i.outcome, words(i.outcome))))
        for name in sorted(i.details):
            if name == "sessions_relied_on":
                continue
            value = i.details[name]
            rows.append((words(name), _details({name: value}).split(": ", 1)[-1]))
        labels = _intervention_exhibits(record, exhibits, i.id)
        if labels:
            rows.append(("Exhibits", labels))
        blocks.append(Facts(tuple(rows)))
    if not items:
        blocks.append(Paragraph(none))
    return items, blocks


def notice_to_improve_section(record: Record, exhibits: Exhibits) -> Section:
    items, blocks = _kind_section(
        record,
        exhibits,
        "notice_to_improve",
        "Notice to Improve",
        InterventionKind.NOTICE_TO_IMPROVE,
        "No Notice to Improve was issued."
        + (
            f" Rationale recorded: {record.notice_to_improve_rationale}"
            if record.notice_to_improve_rationale
            else ""
        ),
    )
    for i in items:
        sessions = i.details.get("sessions_relied_on") or []
        if sessions:
            blocks.append(
                Heading(f"Sessions relied on for the notice of {long_date(i.occurred_on)}")
            )
            blocks.append(
                Table(
                    ("Date", "Session", "Code"),
                    tuple(
                        (long_date(date.fromisoformat(s["date"])), s["session"], s["code"])
                        for s in sessions
                    ),
                )
            )
    return Section("notice_to_improve", "Notice to Improve and its outcome", tuple(blocks))


def penalty_notice_section(ctx: Context, record: Record) -> Section:
    blocks: list[Block] = []
    for parent in record.parents:
        entries = history(ctx, pupil_id=record.case.pupil_id, contact_id=parent.contact_id)
        blocks.append(Heading(parent.name))
        blocks.append(
            Table(
                ("Date", "Reference", "Kind", "Status", "Detail"),
                tuple(
                    (long_date(e.on), e.reference, words(e.kind), e.status, e.detail)
                    for e in entries
                )
                or (("", "", "", "", "No penalty notice for this parent and child."),),
                widths=(1.2, 1.6, 0.9, 1.2, 3.0),
            )
        )
    return Section(
        "penalty_notices", "Penalty-notice history for this parent and child", tuple(blocks)
    )


def contract_section(record: Record, exhibits: Exhibits) -> Section:
    none = "No attendance contract was made."
    if record.contract_rationale:
        none += f" Rationale recorded: {record.contract_rationale}"
    elif record.case.kind == CaseKind.TERM_TIME_HOLIDAY:
        none += " Support is not appropriate for a term-time holiday."
    else:
        none += " No rationale is recorded."
    _, blocks = _kind_section(
        record,
        exhibits,
        "attendance_contract",
        "Attendance contract",
        InterventionKind.ATTENDANCE_CONTRACT,
        none,
    )
    return Section("attendance_contract", "Attendance contract", tuple(blocks))


def interview_section(record: Record, exhibits: Exhibits) -> Section:
    reason = record.tests.no_interview_reason if record.tests else ""
    none = "No interview under caution took place. " + (
        f"Reason recorded: {reason}" if reason else "No reason is recorded."
    )
    _, blocks = _kind_section(
        record,
        exhibits,
        "interview_under_caution",
        "Interview under caution",
        InterventionKind.INTERVIEW_UNDER_CAUTION,
        none,
    )
    intro = Paragraph(
        "Interviews under caution are conducted having regard to PACE 1984 Code C (the caution, "
        "the right to free legal advice, interpreters and appropriate adults) and recorded "
        "under Code E."
    )
    return Section(
        "interview_under_caution", "Interview under caution (PACE Codes C and E)", (intro, *blocks)
    )


def eso_section(record: Record, exhibits: Exhibits) -> Section:
    _, blocks = _kind_section(
        record,
        exhibits,
        "eso_consideration",
        "Education supervision order",
        InterventionKind.ESO_CONSIDERATION,
        "No consideration of an education supervision order is recorded.",
    )
    intro = Paragraph(
        "Before prosecuting under section 444 the local authority must consider whether an "
        "education supervision order would be appropriate (section 447 Education Act 1996)."
    )
    return Section(
        "eso_consideration", "Education supervision order consideration", (intro, *blocks)
    )


def tests_section(record: Record, request: PackRequest) -> Section:
    tests = record.tests
    if tests is None:
        return Section(
            "tests",
            "Evidential and public-interest tests",
            (Paragraph("The tests are not recorded."),),
        )
    evidential = tuple(
        (question, tests.evidential.get(key, "") or "Not answered")
        for key, question in questions_for(request.offence)
    )
    public = tuple(
        (question, tests.public_interest.get(key, "") or "Not answered")
        for key, question in PUBLIC_INTEREST_QUESTIONS
    )
    panel = [
        ("Decision", tests.panel_decision.label if tests.panel_decision else "Not recorded"),
    ]
    if tests.panel_on:
        panel.append(("Date", long_date(tests.panel_on)))
    if tests.panel_members:
        panel.append(("Members", tests.panel_members))
    if tests.panel_note:
        panel.append(("Reasons", tests.panel_note))
    return Section(
        "tests",
        "Evidential and public-interest tests",
        (
            Paragraph(
                f"Recorded for {tests.offence.value} from {long_date(tests.start)} to "
                f"{long_date(tests.end)}."
            ),
            Heading("Evidential stage: a realistic prospect of conviction"),
            Table(("Question", "Officer's answer"), evidential, widths=(3.0, 4.0)),
            Paragraph(
                "Evidential test: " + ("met." if tests.evidential_met else "NOT met."),
                emphasis=True,
            ),
            Heading("Public-interest stage"),
            Table(("Question", "Officer's answer"), public, widths=(3.0, 4.0)),
            Paragraph(
                "Public-interest test: " + ("met." if tests.public_interest_met else "NOT met."),
                emphasis=True,
            ),
            Heading("Pre-proceedings panel"),
            Facts(tuple(panel)),
        ),
    )


def _labels(exhibits: Exhibits, attachment_ids: Iterable[int]) -> str:
    found = sorted({exhibits.label(a) for a in attachment_ids} - {""}, key=lambda x: int(x[2:]))
    return (
        ", ".join(found[:-1]) + (" and " if len(found) > 1 else "") + (found[-1] if found else "")
    )


def witness_statement_section(record: Record, request: PackRequest, exhibits: Exhibits) -> Section:
    """A draft for the school's witness to edit and sign: the register, the school's own
    contact with the family, the letters, as the record has them."""
    c = record.certificate
    t = c.totals
    school_kinds = {
        InterventionKind.PHONE_CALL,
        InterventionKind.LETTER,
        InterventionKind.MEETING_WITH_PARENT,
        InterventionKind.HOME_VISIT,
        InterventionKind.PUPIL_CHECK_IN,
        InterventionKind.ATTENDANCE_CONCERN_MEETING,
        InterventionKind.ATTENDANCE_IMPROVEMENT_MEETING,
        InterventionKind.EARLY_HELP_ASSESSMENT,
        InterventionKind.TEAM_AROUND_THE_FAMILY,
    }
    actions = [i for i in record.interventions if i.kind in school_kinds]
    admitted = min((a.starting_day for a in c.admissions), default=None)
    witness = record.case.school.attendance_lead_name or ""
    parents = " and ".join(p.name for p in record.parents) or "the parents"
    paragraphs = [
        Paragraph(
            "DRAFT for the witness to check, edit and sign. Criminal Justice Act 1967 s9; "
            "Criminal Procedure Rules r16.2.",
            emphasis=True,
        ),
        Facts(
            (
                ("Statement of", witness or "[name of witness]"),
                # The school's named attendance lead is the usual witness to its registers.
                (
                    "Occupation",
                    f"{'Attendance lead' if witness else '[position]'} at {c.school.name}",
                ),
                ("Age of witness", "Over 18"),
            )
        ),
        Paragraph(S9_DECLARATION),
        Paragraph(
            f"I am employed at {c.school.name} (URN {c.school.urn}). I have access to the "
            "school's admission and attendance registers, which are kept under the School "
            "Attendance (Pupil Registration) (England) Regulations 2024."
        ),
        Paragraph(
            f"{c.pupil.legal_name}, born {long_date(c.pupil.date_of_birth)}, has been a "
            "registered pupil at the school"
            + (f" since {long_date(admitted)}" if admitted else "")
            + f". The parents known to the school are {parents}."
        ),
        Paragraph(
            f"Between {long_date(request.start)} and {long_date(request.end)} the register "
            f"shows {t.possible} possible sessions, of which {c.pupil.preferred_name} attended "
            f"{t.attended} ({percent_text(t.attended, t.possible)}). {t.unauthorised} sessions "
            f"were recorded as unauthorised absence and {t.authorised} as authorised absence. "
            "A certified extract of the register is produced."
        ),
    ]
    if actions:
        lines = "; ".join(
            f"{long_date(i.occurred_on)}: {_kind(i.kind).lower()}"
            + (
                f" ({ENGAGEMENT_WORDS[i.family_engaged].lower()})"
                if ENGAGEMENT_WORDS.get(i.family_engaged)
                else ""
            )
            for i in actions
        )
        paragraphs.append(
            Paragraph(
                f"The record shows this contact with and support offered to the family: {lines}."
            )
        )
    if record.letters:
        paragraphs.append(
            Paragraph(
                f"{len(record.letters)} letters were sent to the parents; copies are produced "
                f"as exhibits {_labels(exhibits, (x.attachment_id for x in record.letters))}."
            )
        )
    paragraphs.append(Signature("Witness", witness))
    return Section("witness_statement", "Draft witness statement (school)", tuple(paragraphs))


def exhibits_section(exhibits: Exhibits) -> Section:
    return Section(
        "exhibits",
        "List of exhibits",
        (
            Table(
                ("Exhibit", "Date", "Document", "From the record", "SHA-256"),
                tuple(
                    (x.label, short_date(x.on), x.title, x.source, x.sha256[:12])
                    for x in exhibits.items
                )
                or (("", "", "No exhibits", "", ""),),
                widths=(0.8, 1.1, 3.0, 2.0, 1.4),
            ),
        ),
    )


# --- the educational-neglect route ---------------------------------------------------------------


def neglect_referral_section(ctx: Context, record: Record, request: PackRequest) -> Section:
    t = record.certificate.totals
    limit = f"{ctx.profile.analytics.neglect_at_or_below_percent:g}"
    pupil = record.certificate.pupil
    return Section(
        "referral",
        "Referral to the Attendance of Vulnerable Children Group",
        (
            Paragraph(
                "Referral for discussion of educational neglect (Educational Neglect Policy): "
                "whether the threshold is met and every other avenue has been tried, before a "
                "referral to the Multi-Agency Safeguarding Hub."
            ),
            Facts(
                (
                    ("Pupil", f"{pupil.legal_name}, born {long_date(pupil.date_of_birth)}"),
                    ("School", record.certificate.school.name),
                    ("Period", f"{long_date(request.start)} to {long_date(request.end)}"),
                    (
                        "Attendance in the period",
                        f"{percent_text(t.attended, t.possible)} of {t.possible} possible "
                        f"sessions (the policy's indicator: {limit} % or below)",
                    ),
                    ("Unauthorised absence", f"{t.unauthorised} sessions"),
                    ("Case stage", _stage_label(record.case.stage)),
                )
            ),
        ),
    )


def engagement_section(record: Record, exhibits: Exhibits) -> Section:
    return Section(
        "engagement_history",
        "Engagement history",
        (
            Table(
                INTERVENTION_HEADERS,
                tuple(_intervention_row(record, exhibits, i) for i in record.interventions)
                or (("", NONE_RECORDED, "", "", "", "", ""),),
                widths=INTERVENTION_WIDTHS,
            ),
        ),
    )


def refused_section(record: Record, exhibits: Exhibits) -> Section:
    refused = [
        i
        for i in record.interventions
        if i.family_engaged in (Engagement.DECLINED, Engagement.NOT_ENGAGED)
        or i.outcome == InterventionOutcome.DECLINED
    ]
    return Section(
        "support_refused",
        "Support refused or not engaged with",
        (
            Table(
                INTERVENTION_HEADERS,
                tuple(_intervention_row(record, exhibits, i) for i in refused)
                or (("", NONE_RECORDED, "", "", "", "", ""),),
                widths=INTERVENTION_WIDTHS,
            ),
        ),
    )


# --- the document --------------------------------------------------------------------------------


def assemble(
    ctx: Context,
    record: Record,
    request: PackRequest,
    *,
    number: int,
    notes: tuple[str, ...] = (),
) -> PackDocument:
    """The pack (or the neglect referral) from ``record``: pure apart from reading registers
    and the penalty-notice history through the same scoped services."""
    limit = limit_for(request.end)
    exhibits = exhibits_of(record)
    (ytd_start, ytd_end), (prev_start, prev_end) = year_periods(ctx, record)
    registers = (
        register_section(
            ctx, record, "register_year_to_date", "Register: this year to date", ytd_start, ytd_end
        ),
        register_section(
            ctx, record, "register_previous_year", "Register: previous year", prev_start, prev_end
        ),
    )
    if request.route == Route.PROSECUTION:
        title = f"Pre-court pack: {request.offence.value} Education Act 1996"
        sections = (
            offence_section(record, request),
            chronology_section(record, exhibits),
            certificate_section(record, request),
            *registers,
            graduated_response_section(ctx, record, exhibits),
            notice_to_improve_section(record, exhibits),
            penalty_notice_section(ctx, record),
            contract_section(record, exhibits),
            interview_section(record, exhibits),
            eso_section(record, exhibits),
            tests_section(record, request),
            witness_statement_section(record, request, exhibits),
            exhibits_section(exhibits),
        )
    else:
        title = "Educational neglect: referral to the Attendance of Vulnerable Children Group"
        sections = (
            neglect_referral_section(ctx, record, request),
            certificate_section(record, request),
            registers[0],
            engagement_section(record, exhibits),
            refused_section(record, exhibits),
            graduated_response_section(ctx, record, exhibits),
            chronology_section(record, exhibits),
            penalty_notice_section(ctx, record),
            exhibits_section(exhibits),
        )
    return PackDocument(
        reference=f"{record.case.reference}-P{number}",
        title=title,
        created=record.created,
        author=f"{ctx.actor.full_name}, {ctx.actor.position}",
        cover=cover(record, request, limit),
        sections=sections,
        exhibits=exhibits.items,
        cover_notes=notes,
    )
