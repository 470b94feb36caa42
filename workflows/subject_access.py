"""A subject access export: everything the service holds about one pupil, as one ZIP.

For a subject access request (UK GDPR Art. 15) an LA manager or administrator of the pupil's LA
exports, naming the request's reference: the pupil, enrolments, the parents and carers linked to
this pupil, the family's reference (never a sibling's details), the register marks (a CSV per
academic year) and their amendments, flags, case proposals, UPN changes, leave requests and
decisions, penalty-notice enquiries, and every case with its full chronology, interventions,
deadlines, responsibilities, referrals, approvals, letters (HTML and PDF as stored), attachments,
penalty-notice requests and notices (sessions, payments), court packs (PDF and ZIP as built) and
the outbox emails about it; and the pupil's access history from the audit log. ``README.txt`` and
``index.json`` describe every file with its size and SHA-256.

Deterministic: rows in id order, files in name order, one timestamp for every ZIP entry (the
export's), JSON with sorted keys. Anyone else, or a pupil of another LA, gets "not found". Every
export is an audit entry (action "export"): the command's written here, a web request's by
``api.audit``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from casework import audit
from casework.calendars.model import OutsideCalendar, year_label
from casework.errors import InvalidInput, NotFound
from casework.models import (
    ApprovalRequest,
    Attachment,
    AuditEntry,
    Case,
    CaseEvent,
    CaseProposal,
    Contact,
    CourtPack,
    Deadline,
    Enrolment,
    Family,
    Intervention,
    LeaveDecision,
    LeaveRequest,
    Letter,
    MarkAmendment,
    OutboxEvent,
    OutboxMessage,
    PenaltyNotice,
    PenaltyNoticeEnquiry,
    PenaltyNoticeRequest,
    PenaltyNoticeSession,
    PenaltyPayment,
    PriorPenaltyNotice,
    Pupil,
    PupilContact,
    PupilFlag,
    PupilUpnChange,
    Referral,
    RegisterYear,
    Responsibility,
    School,
)
from casework.registers.marks import MarkString, entries, session_index
from casework.vocabulary import Role
from workflows.context import Context

EXPORTERS = (Role.LA_MANAGER, Role.ADMIN)
MAX_REASON = 200
MAX_ID = 2**31 - 1

# Columns never copied into JSON: bytes go in files of their own.
_BINARY = {"content", "pdf", "zip"}


@dataclass(frozen=True)
class SubjectAccessExport:
    filename: str
    content: bytes
    sha256: str
    files: int


@dataclass
class _Archive:
    """The files of the export, with what each one is, before they are zipped."""

    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)

    def add(self, name: str, content: bytes | str, about: str) -> None:
        data = content.encode() if isinstance(content, str) else content
        self.files[name] = (data, about)

    def json(self, name: str, value: Any, about: str) -> None:
        self.add(name, _json(value), about)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=_plain, ensure_ascii=False) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _row(row: Any) -> dict[str, Any]:
    return {
        attr.key: getattr(row, attr.key)
        for attr in inspect(row).mapper.column_attrs
        if attr.key not in _BINARY
    }


def _rows(session: Session, model, *where) -> list:
    return list(session.scalars(select(model).where(*where).order_by(model.id)))


def _safe(name: str) -> str:
    """A file name from a stored one: letters, digits, dot, dash and underscore only."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "file"
    return cleaned[:100]


def checked_reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise InvalidInput.one("reason", reason, "give the subject access request's reference")
    if len(text) > MAX_REASON or any(c in text for c in "\r\n"):
        raise InvalidInput.one("reason", len(text), f"one line of at most {MAX_REASON} characters")
    return text


def exportable_pupil(ctx: Context, pupil_id: int) -> Pupil:
    """The pupil, for an LA manager or administrator of the pupil's LA; "not found" for anyone
    else and for a pupil of another LA, the same answer as for a pupil that does not exist."""
    # An id no integer column can hold is simply not found (PostgreSQL would refuse the query).
    pupil = ctx.session.get(Pupil, pupil_id) if 1 <= pupil_id <= MAX_ID else None
    if pupil is None or Role(ctx.actor.role) not in EXPORTERS or pupil.la_id != ctx.actor.la_id:
        raise NotFound("pupil", pupil_id)
    return pupil


def export_pupil(
    ctx: Context, pupil_id: int, *, reason: str, route: str | None
) -> SubjectAccessExport:
    """Build the ZIP; with ``route`` (a command) record the export in the audit log in the
    caller's transaction (the caller commits). Over HTTP ``route`` is None: ``api.audit``'s
    middleware records every request to the export routes, refusals included, as "export"."""
    pupil = exportable_pupil(ctx, pupil_id)
    reference = checked_reason(reason)
    at = ctx.now()
    archive = _Archive()
    session = ctx.session
    _about_the_pupil(session, pupil, archive)
    _registers(ctx, pupil, archive)
    _pupil_records(session, pupil, archive)
    for case in _rows(session, Case, Case.pupil_id == pupil.id):
        _case(session, case, archive)
    _access_history(session, pupil, archive)
    content = _zip(archive, pupil, reference, ctx, at)
    if route is not None:
        audit.record(
            session,
            actor=ctx.actor,
            action="export",
            record_type="pupil",
            record_id=pupil.id,
            pupil_id=pupil.id,
            route=route,
            outcome="ok",
            at=at,
        )
    return SubjectAccessExport(
        f"subject-access-pupil-{pupil.id}-{at:%Y%m%d}.zip",
        content,
        hashlib.sha256(content).hexdigest(),
        len(archive.files) + 2,
    )


def _about_the_pupil(session: Session, pupil: Pupil, archive: _Archive) -> None:
    archive.json(
        "pupil.json",
        _row(pupil),
        "The pupil's record: names, date of birth, year, characteristics held for attendance work.",
    )
    schools = {s.id: s.name for s in session.scalars(select(School))}
    archive.json(
        "enrolments.json",
        [
            {**_row(e), "school_name": schools.get(e.school_id)}
            for e in _rows(session, Enrolment, Enrolment.pupil_id == pupil.id)
        ],
        "Schools the pupil is or was on roll at, with dates.",
    )
    links = list(
        session.scalars(
            select(PupilContact)
            .where(PupilContact.pupil_id == pupil.id)
            .order_by(PupilContact.contact_id)
        )
    )
    contacts = {
        c.id: c for c in _rows(session, Contact, Contact.id.in_([x.contact_id for x in links]))
    }
    archive.json(
        "contacts.json",
        [
            {
                "relationship_to_pupil": link.relationship_to_pupil,
                "parental_responsibility": link.parental_responsibility,
                "priority": link.priority,
                "contact": _row(contacts[link.contact_id]),
            }
            for link in links
        ],
        "Parents and carers linked to the pupil, and how.",
    )
    family = session.get(Family, pupil.family_id) if pupil.family_id else None
    archive.json(
        "family.json",
        {"id": family.id, "reference": family.reference} if family else None,
        "The family the pupil belongs to (its reference only: siblings' records are theirs).",
    )


def _registers(ctx: Context, pupil: Pupil, archive: _Archive) -> None:
    session = ctx.session
    schools = {s.id: s.name for s in session.scalars(select(School))}
    years = list(
        session.scalars(
            select(RegisterYear)
            .where(RegisterYear.pupil_id == pupil.id)
            .order_by(RegisterYear.academic_year, RegisterYear.school_id)
        )
    )
    for register in years:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["school", "date", "session", "code"])
        school = schools.get(register.school_id, str(register.school_id))
        for day, session_name, code in _marks(ctx, register):
            writer.writerow([school, day, session_name, code])
        label = year_label(register.academic_year).replace("/", "-")
        archive.add(
            f"registers/{label}-school-{register.school_id}.csv",
            out.getvalue(),
            f"Attendance register marks for {year_label(register.academic_year)} at {school}.",
        )
    amendments = list(
        session.scalars(
            select(MarkAmendment)
            .where(MarkAmendment.register_year_id.in_([r.id for r in years]))
            .order_by(MarkAmendment.id)
        )
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = [
        "session_date",
        "session",
        "original_code",
        "new_code",
        "reason",
        "amended_at",
        "amended_by_name",
        "amended_by_position",
        "source",
    ]
    writer.writerow(columns)
    for amendment in amendments:
        writer.writerow([getattr(amendment, c) for c in columns])
    archive.add("registers/amendments.csv", out.getvalue(), "Every change to a register mark.")


def _marks(ctx: Context, register: RegisterYear) -> list[tuple[str, str, str]]:
    """Each marked session with its date; by position when the school's calendar has changed
    since the marks were laid (so no mark is ever shown against the wrong day)."""
    marks = MarkString(register.marks)
    try:
        index = session_index(ctx.calendar_for(register.school_id), register.academic_year)
    except OutsideCalendar:
        index = None
    if index is not None and index.digest == register.index_digest and len(index) == len(marks):
        return [(d.isoformat(), s, c or "") for d, s, c in entries(index, marks)]
    return [
        (f"session {i + 1}", "", code) for i, code in enumerate(marks.codes()) if code is not None
    ]


def _pupil_records(session: Session, pupil: Pupil, archive: _Archive) -> None:
    archive.json(
        "flags.json",
        [_row(f) for f in _rows(session, PupilFlag, PupilFlag.pupil_id == pupil.id)],
        "Attendance flags the daily scan holds for the pupil now.",
    )
    archive.json(
        "case_proposals.json",
        [_row(p) for p in _rows(session, CaseProposal, CaseProposal.pupil_id == pupil.id)],
        "Cases the daily scan proposed for the pupil, and what became of each.",
    )
    archive.json(
        "upn_changes.json",
        [_row(c) for c in _rows(session, PupilUpnChange, PupilUpnChange.pupil_id == pupil.id)],
        "Changes to the pupil's unique pupil number.",
    )
    requests = _rows(session, LeaveRequest, LeaveRequest.pupil_id == pupil.id)
    decisions = {
        d.request_id: _row(d)
        for d in _rows(
            session, LeaveDecision, LeaveDecision.request_id.in_([r.id for r in requests])
        )
    }
    archive.json(
        "leave_requests.json",
        [{**_row(r), "decision": decisions.get(r.id)} for r in requests],
        "Requests for leave of absence in term time, and the headteacher's decisions.",
    )
    enquiries = _rows(session, PenaltyNoticeEnquiry, PenaltyNoticeEnquiry.pupil_id == pupil.id)
    prior = _rows(session, PriorPenaltyNotice, PriorPenaltyNotice.pupil_id == pupil.id)
    archive.json(
        "penalty_notice_enquiries.json",
        {"enquiries": [_row(e) for e in enquiries], "reported_notices": [_row(p) for p in prior]},
        "Enquiries to other LAs about earlier penalty notices, and what they reported.",
    )


def _case(session: Session, case: Case, archive: _Archive) -> None:
    base = f"cases/{_safe(case.reference)}"
    archive.json(f"{base}/case.json", _row(case), "The case: stage, owner, dates and outcome.")
    for name, model, about in (
        ("events", CaseEvent, "The case's full chronology: who did what, when and why."),
        ("interventions", Intervention, "Support, contact and legal steps recorded."),
        ("deadlines", Deadline, "The case's clocks and what became of each."),
        ("responsibilities", Responsibility, "Who held the case, and when."),
        ("referrals", Referral, "Referrals to another team, and their decisions."),
        ("approvals", ApprovalRequest, "Requests for a manager's approval, and decisions."),
    ):
        rows = _rows(session, model, model.case_id == case.id)
        archive.json(f"{base}/{name}.json", [_row(r) for r in rows], about)
    attachments = _rows(session, Attachment, Attachment.case_id == case.id)
    for item in attachments:
        archive.add(
            f"{base}/attachments/{item.id}-{_safe(item.filename)}",
            item.content,
            f"An exhibit on the case ({item.media_type}, sha256 {item.sha256}).",
        )
    archive.json(
        f"{base}/attachments.json",
        [_row(a) for a in attachments],
        "The case's exhibits: file names, types, sizes and SHA-256.",
    )
    letters = _rows(session, Letter, Letter.case_id == case.id)
    for letter in letters:
        archive.add(
            f"{base}/letters/{_safe(letter.reference)}.html",
            letter.html,
            "A letter as rendered (its PDF is the attachment it names).",
        )
    archive.json(
        f"{base}/letters.json",
        [{k: v for k, v in _row(x).items() if k != "html"} for x in letters],
        "Letters to parents: to whom, when, how delivered.",
    )
    _penalties(session, case, base, archive)
    packs = _rows(session, CourtPack, CourtPack.case_id == case.id)
    for pack in packs:
        archive.add(f"{base}/packs/{_safe(pack.reference)}.pdf", pack.pdf, "A court pack as built.")
        archive.add(
            f"{base}/packs/{_safe(pack.reference)}.zip", pack.zip, "A court pack's bundle as built."
        )
    archive.json(f"{base}/packs.json", [_row(p) for p in packs], "Court packs built on the case.")
    messages = _rows(session, OutboxMessage, OutboxMessage.case_id == case.id)
    history = _rows(
        session, OutboxEvent, OutboxEvent.outbox_message_id.in_([m.id for m in messages])
    )
    archive.json(
        f"{base}/emails.json",
        [
            {**_row(m), "history": [_row(e) for e in history if e.outbox_message_id == m.id]}
            for m in messages
        ],
        "Emails sent about the case: to whom, subject, status and each attempt.",
    )


def _penalties(session: Session, case: Case, base: str, archive: _Archive) -> None:
    requests = _rows(session, PenaltyNoticeRequest, PenaltyNoticeRequest.case_id == case.id)
    archive.json(
        f"{base}/penalty_requests.json",
        [_row(r) for r in requests],
        "Requests for penalty notices, with the sessions relied on.",
    )
    notices = _rows(session, PenaltyNotice, PenaltyNotice.case_id == case.id)
    ids = [n.id for n in notices]
    sessions = _rows(session, PenaltyNoticeSession, PenaltyNoticeSession.notice_id.in_(ids))
    payments = _rows(session, PenaltyPayment, PenaltyPayment.notice_id.in_(ids))
    archive.json(
        f"{base}/penalty_notices.json",
        [
            {
                **_row(n),
                "sessions": [_row(s) for s in sessions if s.notice_id == n.id],
                "payments": [_row(p) for p in payments if p.notice_id == n.id],
            }
            for n in notices
        ],
        "Penalty notices: to whom, for which sessions, and payments.",
    )


def _access_history(session: Session, pupil: Pupil, archive: _Archive) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = ["at", "actor_username", "action", "record_type", "record_id", "route", "outcome"]
    writer.writerow(columns)
    for entry in _rows(session, AuditEntry, AuditEntry.pupil_id == pupil.id):
        writer.writerow([entry.at.isoformat() if c == "at" else getattr(entry, c) for c in columns])
    archive.add(
        "access_history.csv",
        out.getvalue(),
        "Who looked at or changed the pupil's records, when, and how (the audit log).",
    )


def _zip(archive: _Archive, pupil: Pupil, reference: str, ctx: Context, at: datetime) -> bytes:
    listed = [
        {
            "name": name,
            "about": about,
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        for name, (data, about) in sorted(archive.files.items())
    ]
    index = {
        "pupil_id": pupil.id,
        "request_reference": reference,
        "exported_at": at.isoformat(),
        "exported_by": ctx.actor.full_name,
        "files": listed,
    }
    readme = [
        "Subject access export",
        "",
        f"Everything this service holds about pupil {pupil.id}, exported {at:%d %B %Y %H:%M} "
        f"UTC by {ctx.actor.full_name} for request {reference}.",
        "Dates are ISO 8601; times are UTC. JSON files hold the records as stored; CSV files "
        "hold the register and the access history.",
        "",
        "Files:",
        *(f"  {f['name']}: {f['about']}" for f in listed),
        "",
    ]
    stamp = at.timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in (
            ("README.txt", "\n".join(readme).encode()),
            ("index.json", _json(index).encode()),
            *((name, archive.files[name][0]) for name in sorted(archive.files)),
        ):
            info = zipfile.ZipInfo(name, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, data)
    return buffer.getvalue()
