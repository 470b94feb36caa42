"""The pupil page: who the pupil is, the year's register as a calendar heat-map, rates and flags
with the sessions behind them, their family and schools, their cases, and opening one.

The marks are read once (one query for the pupil's register rows, every school, this year and
the last so rolling windows look back); the heat-map, the totals and the flags all come from
that one timeline. The heat-map is laid on the calendar of the school the pupil is at now, one
table per term, a row per school week and a column per session, each cell showing its code
(colour is never the only carrier) with the code's meaning on hover and to assistive tech.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from sqlalchemy import func, select

from api import present
from api.deps import unit_of_work
from api.pages.common import FormError, is_number, me, render, sentence, words
from casework import queries
from casework.analytics.flags import pupil_flags
from casework.analytics.timeline import SessionMark, load_timeline
from casework.analytics.totals import code_class, totals
from casework.calendars.model import OutsideCalendar, TermCalendar, academic_year_of, long_date
from casework.errors import Conflict, Forbidden, InvalidInput
from casework.models import CaseEvent
from casework.registers.codes import StatClass
from casework.vocabulary import CaseKind, Role, Stage
from workflows.attendance import PupilAttendance
from workflows.cases import OPENING_STAGES, OpenCase, open_case
from workflows.context import Context
from workflows.subject_access import EXPORTERS

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


# --- the register heat-map ---------------------------------------------------------------------

NO_MARK_TEXT = "\N{EN DASH}"  # what a session with no mark shows

# Each cell's class (a modifier of ``app-heatmap__cell``) and the words for it, in the key's
# order. A marked session is classed by its code; an unmarked one by the school's calendar.
HEAT_KEY: tuple[tuple[str, str, str], ...] = (
    ("present", "Present", "/ \\"),
    ("late", "Late, before the register closed", "L"),
    ("activity", "Approved educational activity", "K V P W B"),
    ("authorised", "Authorised absence", "I M C S and others"),
    ("unauthorised", "Unauthorised absence", "G N O U"),
    (
        "not-required",
        "Not a possible session: not required, unable to attend, elsewhere or a planned closure",
        "D X Q Y1-Y7 Z #",
    ),
    ("no-mark", "No mark recorded", NO_MARK_TEXT),
    ("closed", "School closed (holiday, INSET day, closure)", ""),
)
HEAT_WORDS = {key: text for key, text, _ in HEAT_KEY}
STAT_HEAT = {
    StatClass.PRESENT: "present",
    StatClass.APPROVED_EDUCATIONAL_ACTIVITY: "activity",
    StatClass.AUTHORISED_ABSENCE: "authorised",
    StatClass.UNAUTHORISED_ABSENCE: "unauthorised",
    StatClass.NOT_POSSIBLE: "not-required",
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SESSIONS = ("AM", "PM")
_DAY = timedelta(days=1)


def session_anchor(day: date, session: str) -> str:
    """The id of a session's heat-map cell (flags link their sessions to it)."""
    return f"session-{day.isoformat()}-{session.lower()}"


@dataclass(frozen=True)
class HeatCell:
    kind: str  # a HEAT_WORDS key, or "future" (not reached yet) / "none" (no session that day)
    text: str  # what the cell shows: the code(s), NO_MARK_TEXT for no mark, "" otherwise
    label: str  # the full description: on hover (title) and to assistive tech
    anchor: str = ""
    why: str = ""  # why a closed session has none (half term, INSET day, ...)


@dataclass(frozen=True)
class HeatRow:
    week: date  # the Monday
    cells: tuple[HeatCell, ...]
    closed: str = ""  # a week with no session at all: why (half term), shown across the row


@dataclass(frozen=True)
class HeatBlock:
    title: str
    rows: tuple[HeatRow, ...]


@dataclass(frozen=True)
class HeatMap:
    weekdays: tuple[str, ...]
    blocks: tuple[HeatBlock, ...]
    school: str  # whose calendar lays it out ("" when none could be used)


def mark_heat(marks: list[SessionMark]) -> tuple[str, str, str]:
    """A marked session's class, text and description (two schools' marks, when dual
    registered, are both shown; the class is the one that counts, a possible session's)."""
    described = []
    chosen = None
    for mark in marks:
        entry = code_class(mark.code, mark.day)
        kind = (
            "late"
            if entry.code == "L" and entry.legacy_code is None
            else STAT_HEAT[entry.stat_class]
        )
        if chosen is None or (chosen == "not-required" and kind != "not-required"):
            chosen = kind
        where = f" at {mark.school}" if len(marks) > 1 else ""
        described.append(f"{mark.code}{where}: {entry.meaning} ({HEAT_WORDS[kind].lower()})")
    return chosen or "no-mark", " ".join(m.code for m in marks), "; ".join(described)


def _cell(
    day: date,
    session: str,
    marks: dict[tuple[date, str], list[SessionMark]],
    calendar: TermCalendar | None,
    as_at: date,
) -> HeatCell:
    when = f"{long_date(day)} {session}"
    found = marks.get((day, session))
    if found:
        kind, text, meaning = mark_heat(found)
        return HeatCell(kind, text, f"{when}: {meaning}", session_anchor(day, session))
    if day > as_at:
        return HeatCell("future", "", f"{when}: not yet")
    if calendar is not None:
        info = calendar.info(day)
        if session.lower() not in {s.value.lower() for s in info.sessions}:
            why = info.why or "the school is not open"
            return HeatCell("closed", "", f"{when}: no session ({why})", why=why)
    elif day.weekday() >= 5:
        return HeatCell("closed", "", f"{when}: weekend", why="weekend")
    return HeatCell("no-mark", NO_MARK_TEXT, f"{when}: no mark recorded")


def _weeks(first: date, last: date):
    week = first - timedelta(days=first.weekday())
    while week <= last:
        yield week
        week += 7 * _DAY


def _rows(
    first: date,
    last: date,
    marks: dict[tuple[date, str], list[SessionMark]],
    calendar: TermCalendar | None,
    as_at: date,
    days: int,
) -> tuple[HeatRow, ...]:
    rows = []
    for week in _weeks(first, min(last, as_at)):
        cells: list[HeatCell] = []
        for offset in range(days):
            day = week + offset * _DAY
            for session in SESSIONS:
                if first <= day <= last:
                    cells.append(_cell(day, session, marks, calendar, as_at))
                else:
                    cells.append(
                        HeatCell("none", "", f"{long_date(day)} {session}: not in this register")
                    )
        if all(c.kind in ("closed", "none") for c in cells):
            whys = []
            for c in cells:
                if c.why and c.why != "weekend" and c.why not in whys:
                    whys.append(c.why)
            rows.append(HeatRow(week, (), "; ".join(whys) or "No sessions"))
        else:
            rows.append(HeatRow(week, tuple(cells)))
    return tuple(rows)


def heat_map(
    calendar: TermCalendar | None, sessions: tuple[SessionMark, ...], year: int, as_at: date
) -> HeatMap:
    """The academic year ``year`` from the pupil's first mark (their admission, in effect) up to
    ``as_at``: one block per term of ``calendar`` (or, with no calendar, one block), a row per
    week. Nothing when the pupil has no mark this year."""
    marks: dict[tuple[date, str], list[SessionMark]] = defaultdict(list)
    for mark in sessions:
        if academic_year_of(mark.day) == year and mark.day <= as_at:
            marks[(mark.day, mark.session)].append(mark)
    if not marks:
        return HeatMap(WEEKDAYS[:5], (), calendar.school if calendar else "")
    since = min(day for day, _ in marks)
    weekend = any(day.weekday() >= 5 for day, _ in marks)
    days = 7 if weekend else 5
    blocks: list[HeatBlock] = []
    terms = []
    if calendar is not None:
        try:
            terms = sorted(calendar.year(year).terms, key=lambda t: t.first)
        except OutsideCalendar:
            calendar = None
    if calendar is not None:
        inside = set()
        for term in terms:
            if term.first > as_at or term.last < since:
                continue
            title = (
                f"{term.name.capitalize()} term, {long_date(term.first)} to {long_date(term.last)}"
            )
            rows = _rows(max(term.first, since), term.last, marks, calendar, as_at, days)
            blocks.append(HeatBlock(title, rows))
            inside |= {d for d, _ in marks if term.first <= d <= term.last}
        stray = sorted({d for d, _ in marks} - inside)
        if stray:  # marks outside the terms (a calendar changed after they were laid)
            blocks.append(
                HeatBlock(
                    "Marks outside the terms",
                    _rows(stray[0], stray[-1], marks, None, as_at, days),
                )
            )
    else:
        blocks.append(
            HeatBlock(f"From {long_date(since)}", _rows(since, as_at, marks, None, as_at, days))
        )
    return HeatMap(WEEKDAYS[:days], tuple(blocks), calendar.school if calendar else "")


def layout_school(pupil, today: date, names: dict[int, str], sessions) -> int | None:
    """The school whose calendar lays the heat-map out: where the pupil is on roll now (one the
    user works with first), else the school of their latest mark, else their latest enrolment."""
    current = [
        e
        for e in sorted(pupil.enrolments, key=lambda e: e.start_date, reverse=True)
        if e.end_date is None or e.end_date >= today
    ]
    for enrolment in current:
        if enrolment.school_id in names:
            return enrolment.school_id
    if current:
        return current[0].school_id
    if sessions:
        return sessions[-1].school_id
    latest = sorted(pupil.enrolments, key=lambda e: e.start_date)
    return latest[-1].school_id if latest else None


def attendance_of(ctx: Context, pupil, names: dict[int, str]) -> tuple[PupilAttendance, HeatMap]:
    """Year-to-date totals, every flag met and the heat-map, from ONE read of the pupil's marks
    (as ``workflows.attendance.pupil_attendance`` computes them, without reading them twice)."""
    day = ctx.today()
    year = academic_year_of(day)
    timeline = load_timeline(ctx.session, pupil.id, date(year - 1, 8, 1), day)
    this_year = [m for m in timeline.sessions if academic_year_of(m.day) == year]
    start = this_year[0].day if this_year else None
    flags = (
        pupil_flags(timeline, start=start, as_at=day, rules=ctx.profile.analytics) if start else []
    )
    attendance = PupilAttendance(start, day, totals(this_year), flags)
    school_id = layout_school(pupil, day, names, this_year)
    calendar = None
    if school_id is not None:
        try:
            calendar = ctx.calendar_for(school_id)
        except LookupError:
            calendar = None
    return attendance, heat_map(calendar, timeline.sessions, year, day)


def stage_since(ctx: Context, case_ids: list[int]) -> dict[int, Any]:
    """When each case reached its current stage: its latest stage-changing event (one query)."""
    if not case_ids:
        return {}
    return dict(
        ctx.session.execute(
            select(CaseEvent.case_id, func.max(CaseEvent.occurred_at))
            .where(CaseEvent.case_id.in_(case_ids), CaseEvent.to_stage.is_not(None))
            .group_by(CaseEvent.case_id)
        ).all()
    )


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
        attendance, heat = attendance_of(ctx, pupil, names)
        since = stage_since(ctx, [c.id for c in cases])
        context = {
            "me": me(ctx),
            "active_section": "caseload",
            "pupil": shown,
            "attendance": attendance,
            "heat": heat,
            "heat_key": HEAT_KEY,
            "anchor": session_anchor,
            "stage_since": since,
            "school_names": names,
            "characteristics": [
                label for key, label in CHARACTERISTIC_WORDS.items() if shown.characteristics[key]
            ],
            "siblings": [
                {
                    "pupil": present.pupil_summary(s),
                    "schools": current_schools(s, today, names),
                }
                for s in siblings
            ],
            "may_open": Role(ctx.actor.role) in OPENERS,
            # Who looked at the record, and everything held for a subject access request:
            # the LA's managers (admins reach both from their own pages).
            "may_see_access": Role(ctx.actor.role) in EXPORTERS,
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
        if not is_number(data.school_id):
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
