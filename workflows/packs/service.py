"""Court packs as a service: check completeness, record the evidential and public-interest tests,
build (refused with its blocking items; warnings acknowledged), list, download, sign off.

Only statutory officers and LA managers may do any of it (the case must be in their scope first:
out of scope is "not found", never "forbidden"). Every step is a case event: the tests
(``pack_tests_recorded``), each build with the pack's sha256 (``pack_built``), every download
(``pack_downloaded``) and each sign-off (``pack_signed_off``), so the audit reads from the
chronology like everything else. A pack row is append-only; a rebuild is the next number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from casework.errors import FieldProblem, InvalidInput, NotFound
from casework.models import Case, CaseEvent, PupilContact
from casework.models.packs import CourtPack
from casework.registers.reports import check_range
from casework.vocabulary import EventKind, Role
from workflows.clocks import on_happenings, with_clocks
from workflows.context import Context
from workflows.guards import long_date
from workflows.packs.completeness import (
    PUBLIC_INTEREST_QUESTIONS,
    Completeness,
    Offence,
    PanelDecision,
    RecordedTests,
    Route,
    check,
    limit_for,
    questions_for,
)
from workflows.packs.content import PackRequest, Record, assemble, pack_facts, read_record
from workflows.packs.document import PackDocument

OFFICERS = (Role.STATUTORY_OFFICER, Role.LA_MANAGER)
MAX_ANSWER = 4000
MAX_COURT = 200
PDF, ZIP = "pdf", "zip"
SIGNERS = {Role.STATUTORY_OFFICER: "statutory officer", Role.LA_MANAGER: "LA manager"}
# The clock subject of the charged period's prosecution time limit.
CHARGED_PERIOD = "charged_period"


# --- access ---------------------------------------------------------------------------------------


def may_build_packs(ctx: Context) -> bool:
    """Whether the signed-in user's role works with court packs at all."""
    return Role(ctx.actor.role) in OFFICERS


def _case(ctx: Context, case_id: int, doing: str, *, for_update: bool = False) -> Case:
    """The case, if the user may see it (else NotFound), and only for officers (else
    Forbidden)."""
    case = ctx.case(case_id, for_update=for_update)
    ctx.require_role(*OFFICERS, doing=doing)
    return case


def pack_of(ctx: Context, case_id: int, pack_id: int, doing: str) -> tuple[Case, CourtPack]:
    case = _case(ctx, case_id, doing)
    found = ctx.session.scalars(
        select(CourtPack).where(CourtPack.id == pack_id, CourtPack.case_id == case.id)
    ).first()
    if found is None:
        raise NotFound("court pack", pack_id)
    return case, found


# --- the request ----------------------------------------------------------------------------------


@dataclass
class PackInput:
    """What the officer asks for, as sent (checked by :func:`request_from`)."""

    start: date
    end: date
    offence: str = Offence.S444_1.value
    court: str = ""
    contact_ids: list[int] | None = None
    route: str = Route.PROSECUTION.value


def default_parents(ctx: Context, case: Case) -> tuple[int, ...]:
    """Every parent of the pupil with parental responsibility, in the school's order."""
    return tuple(
        ctx.session.scalars(
            select(PupilContact.contact_id)
            .where(
                PupilContact.pupil_id == case.pupil_id,
                PupilContact.parental_responsibility.is_(True),
            )
            .order_by(PupilContact.priority, PupilContact.contact_id)
        )
    )


def request_from(ctx: Context, case: Case, given: PackInput) -> PackRequest:
    """The checked request; InvalidInput naming each field, value and rule."""
    problems: list[FieldProblem] = []
    offences = {o.value for o in Offence}
    routes = {r.value for r in Route}
    if given.offence not in offences:
        problems.append(FieldProblem("offence", given.offence, "one of: " + ", ".join(offences)))
    if given.route not in routes:
        problems.append(FieldProblem("route", given.route, "one of: " + ", ".join(sorted(routes))))
    court = (given.court or "").strip()
    if len(court) > MAX_COURT:
        problems.append(FieldProblem("court", len(court), f"at most {MAX_COURT} characters"))
    if given.end > ctx.today():
        problems.append(
            FieldProblem("end", given.end.isoformat(), "is not after today: the offence is past")
        )
    try:
        check_range(given.start, given.end)
    except InvalidInput as refused:
        problems += refused.problems
    contact_ids = tuple(given.contact_ids) if given.contact_ids else default_parents(ctx, case)
    if len(set(contact_ids)) != len(contact_ids):
        problems.append(FieldProblem("contact_ids", list(contact_ids), "names a parent twice"))
    if problems:
        raise InvalidInput(problems)
    return PackRequest(
        start=given.start,
        end=given.end,
        offence=Offence(given.offence),
        court=court,
        contact_ids=contact_ids,
        route=Route(given.route),
    )


# --- completeness ---------------------------------------------------------------------------------


def _count(ctx: Context, case_id: int) -> int:
    return ctx.session.scalar(
        select(func.count()).select_from(CourtPack).where(CourtPack.case_id == case_id)
    )


def _checked(
    ctx: Context, case: Case, given: PackInput
) -> tuple[PackRequest, Record, Completeness]:
    request = request_from(ctx, case, given)
    record = read_record(ctx, case, request)
    return request, record, check(pack_facts(ctx, record, request, _count(ctx, case.id)))


def check_pack(ctx: Context, case_id: int, given: PackInput) -> Completeness:
    """What is missing for this pack, blocking and warnings, without building it."""
    case = _case(ctx, case_id, "check a court pack")
    return _checked(ctx, case, given)[2]


# --- the tests ------------------------------------------------------------------------------------


@dataclass
class Answers:
    offence: str
    start: date
    end: date
    evidential: dict[str, str] = field(default_factory=dict)
    public_interest: dict[str, str] = field(default_factory=dict)
    evidential_met: bool = False
    public_interest_met: bool = False
    panel_decision: str | None = None
    panel_on: date | None = None
    panel_members: str = ""
    panel_note: str = ""
    no_interview_reason: str = ""
    court: str = ""


def _answers(
    where: str, given: Mapping[str, str], questions: Iterable[tuple[str, str]]
) -> tuple[dict[str, str], list[FieldProblem]]:
    keys = [k for k, _ in questions]
    problems = [
        FieldProblem(f"{where}.{k}", None, "is not one of the questions: " + ", ".join(keys))
        for k in given
        if k not in keys
    ]
    answers = {}
    for key in keys:
        text = (given.get(key) or "").strip()
        if not text:
            problems.append(FieldProblem(f"{where}.{key}", given.get(key), "answer the question"))
        elif len(text) > MAX_ANSWER:
            problems.append(FieldProblem(f"{where}.{key}", len(text), f"at most {MAX_ANSWER}"))
        answers[key] = text
    return answers, problems


def record_tests(ctx: Context, case_id: int, given: Answers) -> CaseEvent:
    """The officer's answers to the evidential and public-interest tests and the panel's
    decision, for one offence and period, as a case event (the latest one counts)."""
    case = _case(ctx, case_id, "record the evidential and public-interest tests")
    problems: list[FieldProblem] = []
    if given.offence not in {o.value for o in Offence}:
        problems.append(FieldProblem("offence", given.offence, "s444(1) or s444(1A)"))
        offence = Offence.S444_1
    else:
        offence = Offence(given.offence)
    try:
        check_range(given.start, given.end)
    except InvalidInput as refused:
        problems += refused.problems
    evidential, found = _answers("evidential", given.evidential, questions_for(offence))
    problems += found
    public, found = _answers("public_interest", given.public_interest, PUBLIC_INTEREST_QUESTIONS)
    problems += found
    decision = None
    if given.panel_decision:
        if given.panel_decision not in {d.value for d in PanelDecision}:
            problems.append(
                FieldProblem(
                    "panel_decision",
                    given.panel_decision,
                    "one of: " + ", ".join(d.value for d in PanelDecision),
                )
            )
        else:
            decision = PanelDecision(given.panel_decision)
            if given.panel_on is None:
                problems.append(FieldProblem("panel_on", None, "the date the panel met"))
    if given.panel_on and given.panel_on > ctx.today():
        problems.append(FieldProblem("panel_on", given.panel_on.isoformat(), "is not after today"))
    if problems:
        raise InvalidInput(problems)
    record = RecordedTests(
        offence=offence,
        start=given.start,
        end=given.end,
        evidential=evidential,
        public_interest=public,
        evidential_met=given.evidential_met,
        public_interest_met=given.public_interest_met,
        panel_decision=decision,
        panel_on=given.panel_on,
        panel_members=given.panel_members.strip(),
        panel_note=given.panel_note.strip(),
        no_interview_reason=given.no_interview_reason.strip(),
        court=given.court.strip()[:MAX_COURT],
    )
    met = "met" if given.evidential_met else "not met"
    public_met = "met" if given.public_interest_met else "not met"
    # The charged period's 6-month limit as a clock: its owner is reminded ahead of it and it
    # escalates if it passes. Tests for another period replace it (one charged period a case).
    clocks = on_happenings(
        ctx,
        case,
        ["court_pack:tests_recorded"],
        ctx.today(),
        due=limit_for(given.end),
        subject=CHARGED_PERIOD,
    )
    return ctx.record(
        case,
        EventKind.PACK_TESTS_RECORDED,
        reason=(
            f"{offence.value}, {long_date(given.start)} to {long_date(given.end)}: evidential "
            f"test {met}, public-interest test {public_met}"
            + (f"; panel: {decision.label}" if decision else "")
        ),
        data=with_clocks(record.to_data(), clocks),
    )


# --- building -------------------------------------------------------------------------------------


def _refusal(completeness: Completeness, acknowledged: Iterable[str]) -> list[FieldProblem]:
    problems = [FieldProblem("completeness", b.key, b.text) for b in completeness.blocking]
    seen = set(acknowledged)
    problems += [
        FieldProblem("acknowledged", w.key, f"acknowledge the warning: {w.text}")
        for w in completeness.warnings
        if w.key not in seen
    ]
    return problems


def _notes(ctx: Context, completeness: Completeness) -> tuple[str, ...]:
    # Who built it and when is the cover's "Prepared by" line (the document's author and date).
    return tuple(f"Warning acknowledged at build: {w.text}." for w in completeness.warnings)


def document_for(ctx: Context, case_id: int, given: PackInput, number: int = 1) -> PackDocument:
    """The document a build would make now, without building or recording anything (for
    previews and for proving the same record gives the same document)."""
    case = _case(ctx, case_id, "build a court pack")
    request, record, completeness = _checked(ctx, case, given)
    return assemble(ctx, record, request, number=number, notes=_notes(ctx, completeness))


def build_pack(
    ctx: Context, case_id: int, given: PackInput, acknowledged: Iterable[str] = ()
) -> CourtPack:
    """Build the pack: refused (InvalidInput) with each blocking item and each warning not
    acknowledged; otherwise the PDF and ZIP are made, stored with their sha256 and recorded."""
    from workflows.packs.bundle import build_bundle

    # Locked (PostgreSQL): two builds at once get consecutive numbers.
    case = _case(ctx, case_id, "build a court pack", for_update=True)
    request, record, completeness = _checked(ctx, case, given)
    problems = _refusal(completeness, acknowledged)
    if problems:
        raise InvalidInput(problems)
    number = _count(ctx, case.id) + 1
    document = assemble(ctx, record, request, number=number, notes=_notes(ctx, completeness))
    bundle = build_bundle(document)
    pack = CourtPack(
        case_id=case.id,
        number=number,
        reference=document.reference,
        route=request.route.value,
        offence=request.offence.value,
        period_start=request.start,
        period_end=request.end,
        limit_date=completeness.limit,
        court=request.court,
        contact_ids=list(request.contact_ids),
        built_by_id=ctx.actor.id,
        built_by_name=ctx.actor.full_name,
        built_by_position=ctx.actor.position,
        built_at=ctx.now(),
        warnings_acknowledged=[w.text for w in completeness.warnings],
        pdf=bundle.pdf,
        pdf_sha256=bundle.pdf_sha256,
        zip=bundle.zip,
        zip_sha256=bundle.zip_sha256,
        pages=bundle.pages,
        index=bundle.index,
    )
    ctx.session.add(pack)
    ctx.session.flush()
    ctx.record(
        case,
        EventKind.PACK_BUILT,
        reason=f"Court pack {pack.reference} built ({pack.pages} pages)",
        data={
            "pack": pack.id,
            "number": number,
            "reference": pack.reference,
            "route": pack.route,
            "offence": pack.offence,
            "start": request.start.isoformat(),
            "end": request.end.isoformat(),
            "limit": completeness.limit.isoformat(),
            "pdf_sha256": pack.pdf_sha256,
            "zip_sha256": pack.zip_sha256,
            "pages": pack.pages,
            "exhibits": len(document.exhibits),
            "warnings_acknowledged": [w.key for w in completeness.warnings],
        },
    )
    return pack


# --- reading, downloading, signing off ----------------------------------------------------------


@dataclass(frozen=True)
class SignOff:
    role: str
    name: str
    position: str
    on: date
    statement: str


@dataclass(frozen=True)
class PackView:
    pack: CourtPack
    sign_offs: tuple[SignOff, ...]
    downloads: int


def _pack_events(ctx: Context, case_id: int, *kinds: str) -> list[CaseEvent]:
    return list(
        ctx.session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.kind.in_(kinds))
            .order_by(CaseEvent.sequence)
        )
    )


def _views(ctx: Context, case_id: int, packs: list[CourtPack]) -> list[PackView]:
    events = _pack_events(
        ctx, case_id, EventKind.PACK_SIGNED_OFF.value, EventKind.PACK_DOWNLOADED.value
    )
    views = []
    for pack in packs:
        mine = [e for e in events if (e.data or {}).get("pack") == pack.id]
        sign_offs = tuple(
            SignOff(
                e.data.get("role", ""),
                e.actor_name,
                e.actor_position,
                e.occurred_at.date(),
                e.reason or "",
            )
            for e in mine
            if e.kind == EventKind.PACK_SIGNED_OFF
        )
        downloads = sum(1 for e in mine if e.kind == EventKind.PACK_DOWNLOADED)
        views.append(PackView(pack, sign_offs, downloads))
    return views


def packs_of(ctx: Context, case_id: int) -> list[PackView]:
    case = _case(ctx, case_id, "see court packs")
    packs = list(
        ctx.session.scalars(
            select(CourtPack).where(CourtPack.case_id == case.id).order_by(CourtPack.number)
        )
    )
    return _views(ctx, case.id, packs)


def pack_view(ctx: Context, case_id: int, pack_id: int) -> PackView:
    case, pack = pack_of(ctx, case_id, pack_id, "see court packs")
    return _views(ctx, case.id, [pack])[0]


@dataclass(frozen=True)
class Download:
    content: bytes
    filename: str
    media_type: str
    sha256: str


def download(ctx: Context, case_id: int, pack_id: int, what: str) -> Download:
    """The pack's PDF or ZIP, exactly as built; every download is a case event."""
    if what not in (PDF, ZIP):
        raise InvalidInput.one("format", what, "pdf or zip")
    case, pack = pack_of(ctx, case_id, pack_id, "download a court pack")
    content, sha = (pack.pdf, pack.pdf_sha256) if what == PDF else (pack.zip, pack.zip_sha256)
    ctx.record(
        case,
        EventKind.PACK_DOWNLOADED,
        reason=f"Court pack {pack.reference} downloaded ({what.upper()})",
        data={"pack": pack.id, "reference": pack.reference, "format": what, "sha256": sha},
    )
    media = "application/pdf" if what == PDF else "application/zip"
    return Download(content, f"{pack.reference}.{what}", media, sha)


def sign_off(ctx: Context, case_id: int, pack_id: int, statement: str = "") -> CaseEvent:
    """The statutory officer's sign-off, then the manager's, each once per pack, recorded as a
    case event naming the pack and its sha256."""
    case, pack = pack_of(ctx, case_id, pack_id, "sign off a court pack")
    role = Role(ctx.actor.role)
    done = {s.role for s in _views(ctx, case.id, [pack])[0].sign_offs}
    if role.value in done:
        raise InvalidInput.one(
            "pack_id", pack_id, f"the pack is already signed off by the {SIGNERS[role]}"
        )
    if role == Role.LA_MANAGER and Role.STATUTORY_OFFICER.value not in done:
        raise InvalidInput.one(
            "pack_id", pack_id, "the statutory officer signs the pack off before the manager"
        )
    text = statement.strip() or (
        f"I have checked court pack {pack.reference} and it is ready for legal services."
    )
    if len(text) > MAX_ANSWER:
        raise InvalidInput.one("statement", len(text), f"at most {MAX_ANSWER} characters")
    return ctx.record(
        case,
        EventKind.PACK_SIGNED_OFF,
        reason=text,
        data={
            "pack": pack.id,
            "reference": pack.reference,
            "role": role.value,
            "pdf_sha256": pack.pdf_sha256,
        },
    )
