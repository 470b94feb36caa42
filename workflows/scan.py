"""The daily scan: every attendance flag for every pupil of an LA, and what casework does with
the changes.

1. Load the LA's registers for the academic year of ``as_at`` (and the year before, so rolling
   windows look back across the summer), one query each.
2. Compute every flag with the vectorised engine (``casework.analytics.county``), one batch per
   school; the few pupils with two registers in the year (a change of school, dual
   registration) are computed from their merged timeline with ``pupil_flags``.
3. Compare with ``pupil_flag`` (what the last scan found). Only changes act:
   - a flag raised on a pupil with an open case at that school: one case event naming the flag
     and the sessions that produced it; a decision flag (the penalty-notice threshold) also arms
     the profile's decision clock ("a Notice to Improve / penalty notice may be considered");
   - a flag cleared on an open case: one case event;
   - a flag raised on a pupil without an open case: a case proposal to the school at the stage
     the profile names (support first), unless one is already open for the pupil there.
4. ``pupil_flag`` is brought up to date.

Running it twice on the same day changes nothing the second time (idempotent): the flags are
the same, so there are no changes to act on.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from casework.analytics.county import (
    Prior,
    align_prior,
    county_flags,
    layout,
    lookback_weeks,
    prior_from_strings,
)
from casework.analytics.flags import Flag, flag_titles, pupil_flags
from casework.analytics.timeline import SessionMark, timeline_of
from casework.calendars import school_calendar
from casework.calendars.model import academic_year_of, long_date
from casework.clock import Clock
from casework.db import bulk_insert
from casework.events import Actor, append_event
from casework.models import (
    Case,
    CaseProposal,
    LocalAuthority,
    PupilFlag,
    School,
)
from casework.registers.marks import MarkString, SessionIndex, entries, session_index
from casework.vocabulary import EventKind, Stage
from config.profiles import AnalyticsRules, Profile, load_profile
from workflows.attendance import pupil_attendance
from workflows.clocks import on_happenings, with_clocks
from workflows.context import Context

SCAN = Actor(None, "Casework daily scan", "automatic attendance check")


@dataclass
class ScanReport:
    la_id: int
    as_at: date
    pupils: int = 0
    registers: int = 0
    flags_now: int = 0
    raised: int = 0
    cleared: int = 0
    case_events: int = 0
    decisions_armed: int = 0
    proposals: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Found:
    """One flag a pupil has now: its key, the school it is counted at, and figures."""

    pupil_id: int
    school_id: int
    flag: str
    explanation: str
    figures: dict


def scan_la(session: Session, la_id: int, *, as_at: date, clock: Clock) -> ScanReport:
    """Scan one LA on ``as_at`` and act on the changes (flushes; the caller commits)."""
    la = session.get(LocalAuthority, la_id)
    profile = load_profile(la.profile)
    rules = profile.analytics
    report = ScanReport(la_id, as_at)
    started = time.perf_counter()
    found = _current_flags(session, la_id, as_at, rules, report)
    report.seconds["flags"] = time.perf_counter() - started
    started = time.perf_counter()
    _act_on_changes(session, la_id, profile, found, as_at, clock, report)
    report.seconds["changes"] = time.perf_counter() - started
    return report


def scan_all(session: Session, *, as_at: date, clock: Clock) -> list[ScanReport]:
    return [
        scan_la(session, la_id, as_at=as_at, clock=clock)
        for la_id in session.scalars(select(LocalAuthority.id).order_by(LocalAuthority.id))
    ]


# --- 1-2: the flags now -----------------------------------------------------------------------


def _current_flags(
    session: Session, la_id: int, as_at: date, rules: AnalyticsRules, report: ScanReport
) -> dict[tuple[int, int, str], _Found | tuple]:
    year = academic_year_of(as_at)
    schools = dict(
        session.execute(select(School.id, School.name).where(School.la_id == la_id)).all()
    )
    this_year = _rows(session, la_id, year)
    last_year = _rows(session, la_id, year - 1)
    report.registers = sum(len(v) for v in this_year.values())
    calendars = {sid: school_calendar(session, sid) for sid in schools}
    indexes: dict[tuple[int, int], SessionIndex] = {}

    def index_of(school_id: int, y: int) -> SessionIndex:
        key = (school_id, y)
        if key not in indexes:
            indexes[key] = session_index(calendars[school_id], y)
        return indexes[key]

    schools_of: dict[int, list[int]] = defaultdict(list)
    for school_id, rows in this_year.items():
        for pupil_id, _ in rows:
            schools_of[pupil_id].append(school_id)
    report.pupils = len(schools_of)
    movers = {p for p, s in schools_of.items() if len(s) > 1}
    prior = _prior(last_year, index_of, year - 1, rules)
    found: dict[tuple[int, int, str], _Found | tuple] = {}
    for school_id, rows in this_year.items():
        rows = [(p, m) for p, m in rows if p not in movers]
        if not rows:
            continue
        index = index_of(school_id, year)
        ids = np.fromiter((p for p, _ in rows), dtype=np.int64, count=len(rows))
        result = county_flags(
            layout(index),
            ids,
            [m for _, m in rows],
            rules=rules,
            as_at=as_at,
            prior=align_prior(ids, prior) if prior else None,
        )
        for key in result.keys:
            for i in np.flatnonzero(result.flags[key]).tolist():
                # Details are built later, only for flags raised today (a steady day has none).
                found[(int(ids[i]), school_id, key)] = (result, i)
    # Pupils with two registers this year: their rows gathered in one pass, not one per pupil.
    rows_of: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for y, by_school in ((year - 1, last_year), (year, this_year)):
        for school_id, rows in by_school.items():
            for pupil_id, text in rows:
                if pupil_id in movers:
                    rows_of[pupil_id].append((y, school_id, text))
    for pupil_id in movers:
        marks = _marks_of(rows_of[pupil_id], index_of)
        latest_school = marks[-1].school_id if marks else schools_of[pupil_id][0]
        for flag in pupil_flags(
            timeline_of(pupil_id, marks), start=index_of(latest_school, year).sessions[0][0],
            as_at=as_at, rules=rules,
        ):  # fmt: skip
            found[(pupil_id, latest_school, flag.key)] = _Found(
                pupil_id, latest_school, flag.key, flag.explanation, _plain(flag.figures)
            )
    report.flags_now = len(found)
    return found


def _details(key: tuple[int, int, str], value: _Found | tuple, titles: dict[str, str]) -> _Found:
    if isinstance(value, _Found):
        return value
    result, i = value
    pupil_id, school_id, flag = key
    figures = {
        "possible": int(result.possible[i]),
        "attended": int(result.attended[i]),
        "authorised": int(result.authorised[i]),
        "unauthorised": int(result.unauthorised[i]),
        "best_threshold_window": int(result.best_threshold[i]),
        "best_late_window": int(result.best_late[i]),
    }
    return _Found(pupil_id, school_id, flag, _summary(titles[flag], figures), figures)


def _rows(session: Session, la_id: int, year: int) -> dict[int, list[tuple[int, str]]]:
    """The LA's register strings for the year by school, (pupil, marks) in pupil order."""
    out: dict[int, list[tuple[int, str]]] = defaultdict(list)
    query = (
        "SELECT r.school_id, r.pupil_id, r.marks FROM register_year r "
        "JOIN school s ON s.id = r.school_id "
        f"WHERE s.la_id = {int(la_id)} AND r.academic_year = {int(year)} "
        "ORDER BY r.school_id, r.pupil_id"
    )
    for school_id, pupil_id, marks in _fetch(session, query):
        out[school_id].append((pupil_id, marks))
    return out


def _fetch(session: Session, sql: str) -> list[tuple]:
    """Rows as plain tuples through the driver's cursor: a county is hundreds of thousands of
    rows, and building result rows costs more than the database's reading them. ``sql`` holds
    only integers we formatted ourselves."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def _prior(
    last_year: dict[int, list[tuple[int, str]]], index_of, year: int, rules: AnalyticsRules
) -> list[tuple[np.ndarray, Prior]]:
    sources = []
    for school_id, rows in last_year.items():
        index = index_of(school_id, year)
        if any(len(m) != len(index) for _, m in rows):
            continue  # laid on an older calendar: the relay tool must re-lay it first
        ids = np.fromiter((p for p, _ in rows), dtype=np.int64, count=len(rows))
        sources.append(
            (
                ids,
                prior_from_strings(
                    index, [m for _, m in rows], rules=rules, weeks=lookback_weeks(rules)
                ),
            )
        )
    return sources


def _marks_of(rows: list[tuple[int, int, str]], index_of) -> list[SessionMark]:
    """One pupil's marks from their (year, school, register string) rows, in session order."""
    marks: list[SessionMark] = []
    for y, school_id, text in rows:
        index = index_of(school_id, y)
        if len(text) != len(index):
            continue  # laid on an older calendar: the relay re-lays it first
        marks.extend(
            SessionMark(day, name, code, school_id, "")
            for day, name, code in entries(index, MarkString(text))
        )
    return sorted(marks, key=lambda m: (m.day, m.session, m.school_id))


def _summary(title: str, figures: dict) -> str:
    possible = figures["possible"]
    if not possible:
        return title
    attendance = 100 * figures["attended"] / possible
    return (
        f"{title}: attendance {attendance:.1f}% ({figures['attended']} of {possible} possible "
        f"sessions; {figures['authorised']} authorised, {figures['unauthorised']} unauthorised "
        f"absences)"
    )


def _plain(figures) -> dict:
    return {
        k: (v if isinstance(v, (int, float, str)) or v is None else str(v))
        for k, v in figures.items()
    }


# --- 3-4: acting on changes -------------------------------------------------------------------


def _act_on_changes(
    session: Session,
    la_id: int,
    profile: Profile,
    found: dict[tuple[int, int, str], _Found | tuple],
    as_at: date,
    clock: Clock,
    report: ScanReport,
) -> None:
    table = PupilFlag.__table__
    existing = {
        (p, s, f): i
        for i, p, s, f in _fetch(
            session,
            "SELECT f.id, f.pupil_id, f.school_id, f.flag FROM pupil_flag f "
            f"JOIN school s ON s.id = f.school_id WHERE s.la_id = {int(la_id)}",
        )
    }
    titles = flag_titles(profile.analytics)
    raised = [_details(k, found[k], titles) for k in sorted(found.keys() - existing.keys())]
    cleared = sorted(existing.keys() - found.keys())
    report.raised, report.cleared = len(raised), len(cleared)
    if cleared:
        ids = [existing[k] for k in cleared]
        for start in range(0, len(ids), 900):
            session.execute(delete(PupilFlag).where(PupilFlag.id.in_(ids[start : start + 900])))
    if raised:
        bulk_insert(
            session,
            table,
            [
                {
                    "pupil_id": f.pupil_id,
                    "school_id": f.school_id,
                    "flag": f.flag,
                    "raised_on": as_at,
                    "explanation": f.explanation,
                    "figures": f.figures,
                }
                for f in raised
            ],
        )
    if not raised and not cleared:
        return
    touched = {(f.pupil_id, f.school_id) for f in raised} | {(p, s) for p, s, _ in cleared}
    cases = _open_cases(session, la_id, touched)
    ctx = Context.system(session, clock, profile)
    _record_on_cases(ctx, cases, raised, cleared, as_at, report)
    _propose(session, cases, raised, profile.analytics, as_at, report)


def _open_cases(
    session: Session, la_id: int, touched: set[tuple[int, int]]
) -> dict[tuple[int, int], Case]:
    pupils = sorted({p for p, _ in touched})
    cases: dict[tuple[int, int], Case] = {}
    for start in range(0, len(pupils), 900):
        for case in session.scalars(
            select(Case).where(
                Case.la_id == la_id,
                Case.pupil_id.in_(pupils[start : start + 900]),
                Case.stage != Stage.CLOSED.value,
            )
        ):
            cases[(case.pupil_id, case.school_id)] = case
    return cases


def _record_on_cases(
    ctx: Context,
    cases: dict[tuple[int, int], Case],
    raised: list[_Found],
    cleared: list[tuple[int, int, str]],
    as_at: date,
    report: ScanReport,
) -> None:
    rules = ctx.profile.analytics
    titles = flag_titles(rules)
    explained: dict[int, dict[str, Flag]] = {}
    now = ctx.now()
    for f in sorted(raised, key=lambda f: (f.pupil_id, f.flag)):
        case = cases.get((f.pupil_id, f.school_id))
        if case is None:
            continue
        flags = explained.get(f.pupil_id)
        if flags is None:
            flags = explained[f.pupil_id] = _explain(ctx, f.pupil_id, as_at)
        flag = flags.get(f.flag)
        data = {
            "flag": f.flag,
            "title": titles.get(f.flag, f.flag),
            "explanation": flag.explanation if flag else f.explanation,
            "sessions": [
                {
                    "date": s.day.isoformat(),
                    "session": s.session,
                    "code": s.code,
                    "school": s.school,
                }
                for s in (flag.sessions if flag else ())
            ],
        }
        reason = f"{titles.get(f.flag, f.flag)} (daily scan, {long_date(as_at)})"
        if f.flag in rules.decision_flags:
            changes = on_happenings(ctx, case, [f"flag_raised:{f.flag}"], as_at)
            if changes.get("armed"):
                report.decisions_armed += 1
            data = with_clocks(data, changes)
            reason = (
                f"{titles.get(f.flag, f.flag)}: a Notice to Improve or penalty notice may be "
                f"considered (daily scan, {long_date(as_at)})"
            )
        append_event(
            ctx.session, case, SCAN, now, EventKind.FLAG_RAISED.value, reason=reason, data=data
        )
        report.case_events += 1
    for pupil_id, school_id, key in cleared:
        case = cases.get((pupil_id, school_id))
        if case is None:
            continue
        changes = on_happenings(ctx, case, [f"flag_cleared:{key}"], as_at)
        append_event(
            ctx.session,
            case,
            SCAN,
            now,
            EventKind.FLAG_CLEARED.value,
            reason=f"{titles.get(key, key)} no longer met (daily scan, {long_date(as_at)})",
            data=with_clocks({"flag": key, "title": titles.get(key, key)}, changes),
        )
        report.case_events += 1


def _explain(ctx: Context, pupil_id: int, as_at: date) -> dict[str, Flag]:
    """The pupil's flags with the sessions behind them (only for pupils with open cases)."""
    return {f.key: f for f in pupil_attendance(ctx, pupil_id, as_at=as_at).flags}


def _propose(
    session: Session,
    cases: dict[tuple[int, int], Case],
    raised: list[_Found],
    rules: AnalyticsRules,
    as_at: date,
    report: ScanReport,
) -> None:
    wanted: dict[tuple[int, int], list[_Found]] = defaultdict(list)
    for f in raised:
        if (f.pupil_id, f.school_id) in cases or not rules.propose.get(f.flag):
            continue
        wanted[(f.pupil_id, f.school_id)].append(f)
    if not wanted:
        return
    pupils = sorted({p for p, _ in wanted})
    open_now: set[tuple[int, int]] = set()
    for start in range(0, len(pupils), 900):
        open_now.update(
            session.execute(
                select(CaseProposal.pupil_id, CaseProposal.school_id).where(
                    CaseProposal.pupil_id.in_(pupils[start : start + 900]),
                    CaseProposal.status == "open",
                )
            ).tuples()
        )
    order = {s.value: i for i, s in enumerate(Stage)}
    rows = []
    for (pupil_id, school_id), flags in sorted(wanted.items()):
        if (pupil_id, school_id) in open_now:
            continue
        stage = max((rules.propose[f.flag] for f in flags), key=lambda s: order.get(s, -1))
        chosen = sorted((f for f in flags if rules.propose[f.flag] == stage), key=lambda f: f.flag)
        rows.append(
            {
                "pupil_id": pupil_id,
                "school_id": school_id,
                "flag": chosen[0].flag,
                "stage": stage,
                "explanation": "; ".join(f.explanation for f in chosen),
                "proposed_on": as_at,
                "status": "open",
                "version": 1,
            }
        )
    if rows:
        bulk_insert(session, CaseProposal.__table__, rows)
        report.proposals = len(rows)


def run_daily_scan(factory, clock: Clock, *, as_at: date | None = None) -> list[ScanReport]:
    """The scheduler's job: scan every LA, one transaction per LA."""
    from casework.clock import today
    from casework.uow import UnitOfWork

    day = as_at or today(clock)
    reports = []
    with factory() as session:
        la_ids = list(session.scalars(select(LocalAuthority.id).order_by(LocalAuthority.id)))
    for la_id in la_ids:
        with UnitOfWork(factory, write=True) as uow:
            reports.append(scan_la(uow.session, la_id, as_at=day, clock=clock))
            uow.commit()
    return reports
