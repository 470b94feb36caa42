"""The LA's reports, for what the user may see: persistent and severe absence by school and by
year group, the trend over the year, caseload per officer, deadlines met on time, and what
happens to attendance after each kind of intervention.

Scope: absence is counted over the schools the user may see (``Scope.schools``: a traded officer
the schools they serve, a statutory officer and a manager the whole LA, as the statistics API
does); casework figures (caseload, deadlines, outcomes) over the cases they may see
(``Scope.cases``).

Absence follows ``casework.analytics.aggregates`` (the DfE columns, persistent absence at 10 %
and severe at 50 % of the enrolment's own possible sessions, compared exactly); each enrolment's
register is read once, as numpy arrays, and counted month by month, so the year-to-date tables
and the trend come from the same counts.

Outcomes: for each intervention of a kind (not the superseded records of an outcome update) and
each issued penalty notice (one per pupil and issue date, however many parents got one), the
pupil's attendance over their own last N school weeks (weeks with a mark at any school) before the
week of the intervention and their first N complete school weeks after it. An intervention whose
after-window is not yet complete is counted as "too recent"; one without a possible session in
either window as "no register". Registers are bulk-loaded for all the pupils concerned.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from casework.analytics.aggregates import Aggregate, aggregate_arrays
from casework.analytics.totals import code_class
from casework.calendars.model import academic_year_of
from casework.errors import InvalidInput
from casework.models import Case, Intervention, PenaltyNotice, Pupil, RegisterYear, School, User
from casework.models.deadlines import Deadline
from casework.registers.codes import StatClass
from casework.registers.marks import CHAR_TO_CODE, SessionIndex, session_index
from casework.vocabulary import OPEN_STAGES, InterventionKind, Stage, year_group
from workflows.clocks import CANCELLED, DONE_LATE, FIRED
from workflows.context import Context

LONDON = ZoneInfo("Europe/London")
DEFAULT_WEEKS = 6
MAX_WEEKS = 26
NOT_RECORDED = 99  # the year group key of a pupil without one
CHUNK = 900  # ids per IN (...) list: under SQLite's and PostgreSQL's limits

# The kinds the outcomes report compares, in order, with the words a manager reads.
OUTCOME_KINDS: tuple[tuple[str, str], ...] = (
    (InterventionKind.ATTENDANCE_IMPROVEMENT_MEETING.value, "Attendance Improvement Meeting"),
    (InterventionKind.ATTENDANCE_CONTRACT.value, "Attendance contract"),
    (InterventionKind.NOTICE_TO_IMPROVE.value, "Notice to Improve"),
    (InterventionKind.PENALTY_NOTICE.value, "Penalty notice"),
)
# Notices that were issued (a draft, or a draft cancelled before issue, never reached a family).
ISSUED_NOTICES = ("issued", "paid", "withdrawn", "prosecution")


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


# --- session classes as lookup tables ---------------------------------------------------------


@lru_cache(maxsize=8)
def _tables(legacy: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stored character -> (possible, attended, authorised, unauthorised, marked), as 0/1
    arrays of 256; legacy codes count only in a year before 19 August 2024 (as ``code_class``
    says); anything else (no mark, not a stored mark) counts nothing."""
    on = date(2024, 8, 18) if legacy else date(2024, 8, 19)
    tables = [np.zeros(256, dtype=np.uint8) for _ in range(5)]
    possible, attended, authorised, unauthorised, marked = tables
    for char, code in CHAR_TO_CODE.items():
        try:
            stat = code_class(code, on).stat_class
        except InvalidInput:
            continue
        i = ord(char)
        marked[i] = 1
        if stat is StatClass.NOT_POSSIBLE:
            continue
        possible[i] = 1
        if stat in (StatClass.PRESENT, StatClass.APPROVED_EDUCATIONAL_ACTIVITY):
            attended[i] = 1
        elif stat is StatClass.AUTHORISED_ABSENCE:
            authorised[i] = 1
        else:
            unauthorised[i] = 1
    return possible, attended, authorised, unauthorised, marked


def _legacy(index: SessionIndex) -> bool:
    return bool(index.sessions) and index.sessions[0][0] < date(2024, 8, 19)


def _codes(strings: list[str], length: int) -> np.ndarray:
    """Mark strings of one length as an (n, length) array of character codes."""
    if not strings:
        return np.zeros((0, length), dtype=np.uint8)
    joined = "".join(strings).encode("latin-1", errors="replace")
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(strings), length)


# --- absence by school, year group and month --------------------------------------------------


@dataclass(frozen=True)
class MonthCounts:
    """Per enrolment (row) and month of the academic year (column, September first)."""

    start_year: int
    months: tuple[date, ...]  # the first of each month counted, up to the one holding as_at
    pupil_ids: np.ndarray
    school_names: dict[int, str]
    schools: np.ndarray  # the school's id per row
    year_groups: np.ndarray  # the pupil's national curriculum year (NOT_RECORDED: none)
    possible: np.ndarray
    authorised: np.ndarray
    unauthorised: np.ndarray

    def to_date(self, upto: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Counts from the year's start to the end of month ``upto`` (default: all)."""
        stop = len(self.months) if upto is None else upto + 1
        return tuple(
            a[:, :stop].sum(axis=1) for a in (self.possible, self.authorised, self.unauthorised)
        )  # type: ignore[return-value]


def month_counts(ctx: Context, as_at: date) -> MonthCounts:
    """Every enrolment's sessions in the schools the user may see, month by month, to ``as_at``.
    Rows laid on a calendar the school has since changed are left out (as the statistics do)."""
    year = academic_year_of(as_at)
    months: list[date] = []
    first = date(year, 9, 1)
    while first <= as_at:
        months.append(first)
        first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    schools = dict(
        ctx.session.execute(select(School.id, School.name).where(ctx.scope.schools())).all()
    )
    table = RegisterYear.__table__
    rows: dict[int, list[tuple[int, str, int | None]]] = defaultdict(list)
    if schools:
        for school_id, pupil_id, marks, nc_year in ctx.session.execute(
            select(table.c.school_id, table.c.pupil_id, table.c.marks, Pupil.nc_year)
            .join(Pupil, Pupil.id == table.c.pupil_id)
            .where(table.c.academic_year == year, table.c.school_id.in_(list(schools)))
        ):
            rows[school_id].append((pupil_id, marks, nc_year))
    width = max(len(months), 1)
    ids: list[int] = []
    school_of: list[int] = []
    groups: list[int] = []
    parts: list[list[np.ndarray]] = [[], [], []]
    limit = as_at.toordinal()
    for school_id, found in rows.items():
        index = session_index(ctx.calendar_for(school_id), year)
        batch = [(p, m, y) for p, m, y in found if len(m) == len(index)]
        if not batch:
            continue
        codes = _codes([m for _, m, _ in batch], len(index))
        possible, _, authorised, unauthorised, _ = _tables(_legacy(index))
        # Sessions are in date order, so each month is a run of columns: look each character
        # up (uint8 tables) and sum the runs (sessions after as_at are in no month).
        month_of = np.array(
            [
                (d.year * 12 + d.month) - (year * 12 + 9) if d.toordinal() <= limit else width
                for d, _ in index.sessions
            ],
            dtype=np.int64,
        )
        starts = np.searchsorted(month_of, np.arange(width), side="left")
        ends = np.searchsorted(month_of, np.arange(width), side="right")
        filled = starts < ends
        for out, lookup in zip(parts, (possible, authorised, unauthorised), strict=True):
            sums = np.zeros((len(batch), width), dtype=np.int64)
            if filled.any():
                counted = np.take(lookup, codes[:, : int(ends[filled][-1])])
                sums[:, filled] = np.add.reduceat(counted, starts[filled], axis=1, dtype=np.int64)
            out.append(sums)
        ids.extend(p for p, _, _ in batch)
        school_of.extend([school_id] * len(batch))
        # Year groups as sortable keys (NOT_RECORDED last), so Reception comes before Year 1.
        groups.extend(NOT_RECORDED if y is None else y for _, _, y in batch)
    empty = np.zeros((0, width), dtype=np.int64)
    return MonthCounts(
        year,
        tuple(months),
        np.array(ids, dtype=np.int64),
        schools,
        np.array(school_of, dtype=np.int64),
        np.array(groups, dtype=np.int64),
        *(np.concatenate(p) if p else empty for p in parts),
    )


@dataclass(frozen=True)
class AbsenceRow:
    label: str
    aggregate: Aggregate

    @property
    def persistent(self) -> float | None:
        return self.aggregate.enrolments_pa_10_exact_percent

    @property
    def severe(self) -> float | None:
        return self.aggregate.enrolments_pa_50_exact_percent

    @property
    def overall(self) -> float | None:
        return self.aggregate.sess_overall_percent


@dataclass(frozen=True)
class TrendPoint:
    month: date
    absence: float | None  # overall absence in the month's sessions
    absence_to_date: float | None
    persistent_to_date: float | None  # persistently absent enrolments, year to date
    enrolments: int


@dataclass(frozen=True)
class AbsenceReport:
    start_year: int
    as_at: date
    overall: Aggregate | None
    by_school: list[AbsenceRow]
    by_year_group: list[AbsenceRow]
    trend: list[TrendPoint]


def absence_report(ctx: Context, as_at: date) -> AbsenceReport:
    counts = month_counts(ctx, as_at)
    ytd = counts.to_date()
    overall = aggregate_arrays(*ytd).get(None)
    by_school = sorted(
        (
            AbsenceRow(counts.school_names[int(school_id)], agg)
            for school_id, agg in aggregate_arrays(*ytd, counts.schools).items()
        ),
        key=lambda row: row.label,
    )
    by_year = [
        AbsenceRow("Not recorded" if key == NOT_RECORDED else year_group(int(key)), agg)
        for key, agg in sorted(
            aggregate_arrays(*ytd, counts.year_groups).items(), key=lambda kv: int(kv[0])
        )
    ]
    trend = []
    for m, month in enumerate(counts.months):
        this_month = aggregate_arrays(
            counts.possible[:, m], counts.authorised[:, m], counts.unauthorised[:, m]
        ).get(None)
        to_date = aggregate_arrays(*counts.to_date(m)).get(None)
        trend.append(
            TrendPoint(
                month,
                this_month.sess_overall_percent if this_month else None,
                to_date.sess_overall_percent if to_date else None,
                to_date.enrolments_pa_10_exact_percent if to_date else None,
                to_date.enrolments if to_date else 0,
            )
        )
    return AbsenceReport(counts.start_year, as_at, overall, by_school, by_year, trend)


# --- caseload per officer ---------------------------------------------------------------------


@dataclass(frozen=True)
class OfficerCaseload:
    owner_id: int
    name: str
    by_stage: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_stage.values())


def caseload(ctx: Context) -> tuple[list[str], list[OfficerCaseload]]:
    """Open cases the user may see by their holder and stage: the stages in support-first
    order (only those with a case), and one line per holder, most cases first."""
    found: dict[int, OfficerCaseload] = {}
    for owner_id, name, stage, count in ctx.session.execute(
        select(Case.owner_id, User.full_name, Case.stage, func.count(Case.id))
        .join(User, User.id == Case.owner_id)
        .where(ctx.scope.cases(), Case.closed_at.is_(None), Case.stage != Stage.CLOSED.value)
        .group_by(Case.owner_id, User.full_name, Case.stage)
    ):
        line = found.setdefault(owner_id, OfficerCaseload(owner_id, name, {}))
        line.by_stage[stage] = int(count)
    seen = {s for line in found.values() for s in line.by_stage}
    stages = [s.value for s in OPEN_STAGES if s.value in seen] + sorted(
        seen - {s.value for s in OPEN_STAGES}
    )
    return stages, sorted(found.values(), key=lambda line: (-line.total, line.name))


# --- deadlines met on time --------------------------------------------------------------------


@dataclass
class DeadlineTally:
    label: str
    on_time: int = 0
    late: int = 0  # done after the date (the clock had passed, or was stopped after it)
    overdue: int = 0  # passed and still not done

    @property
    def total(self) -> int:
        return self.on_time + self.late + self.overdue

    @property
    def on_time_percent(self) -> float | None:
        return None if not self.total else self.on_time / self.total * 100


def _local_day(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LONDON).date()


def deadline_outcome(status: str, due_on: date, cancelled_at: datetime | None) -> str | None:
    """ "on_time" (stopped on or before its date), "late" (done after it), "overdue" (passed
    and still open), or None (not yet due, or failed: not counted)."""
    if status == CANCELLED:
        stopped = _local_day(cancelled_at)
        return "on_time" if stopped is None or stopped <= due_on else "late"
    if status == DONE_LATE:
        return "late"
    if status == FIRED:
        return "overdue"
    return None


@dataclass(frozen=True)
class DeadlineReport:
    overall: DeadlineTally
    by_kind: list[DeadlineTally]
    by_officer: list[DeadlineTally]


def deadlines_report(ctx: Context) -> DeadlineReport:
    """Deadlines on the cases the user may see that have come to an end or passed, by kind and
    by the case's holder: met on time (stopped before its date) or not."""
    overall = DeadlineTally("All deadlines")
    kinds: dict[str, DeadlineTally] = {}
    officers: dict[int, DeadlineTally] = {}
    for kind, label, status, due_on, cancelled_at, owner_id, name in ctx.session.execute(
        select(
            Deadline.kind,
            Deadline.label,
            Deadline.status,
            Deadline.due_on,
            Deadline.cancelled_at,
            Case.owner_id,
            User.full_name,
        )
        .join(Case, Case.id == Deadline.case_id)
        .join(User, User.id == Case.owner_id)
        .where(ctx.scope.cases(), Deadline.status.in_((CANCELLED, DONE_LATE, FIRED)))
    ):
        outcome = deadline_outcome(status, due_on, cancelled_at)
        if outcome is None:
            continue
        for tally in (
            overall,
            kinds.setdefault(kind, DeadlineTally(label)),
            officers.setdefault(owner_id, DeadlineTally(name)),
        ):
            setattr(tally, outcome, getattr(tally, outcome) + 1)
    return DeadlineReport(
        overall,
        sorted(kinds.values(), key=lambda t: t.label),
        sorted(officers.values(), key=lambda t: t.label),
    )


# --- outcomes: attendance before and after ----------------------------------------------------


@dataclass(frozen=True)
class PupilWeeks:
    """A pupil's school weeks (weeks with a mark at any school), in order: each week's Monday
    (an ordinal), possible and attended sessions."""

    mondays: np.ndarray
    possible: np.ndarray
    attended: np.ndarray


def _monday(ordinal: int | np.ndarray):
    # date.fromordinal(1) is a Monday, so (ordinal - 1) % 7 is the weekday (Monday 0).
    return ordinal - (ordinal - 1) % 7


def pupil_weeks(ordinals: np.ndarray, possible: np.ndarray, attended: np.ndarray) -> PupilWeeks:
    """Marked sessions (day ordinals with 0/1 possible and attended) summed by school week."""
    if len(ordinals) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return PupilWeeks(empty, empty, empty)
    mondays, index = np.unique(_monday(np.asarray(ordinals, dtype=np.int64)), return_inverse=True)
    size = len(mondays)
    return PupilWeeks(
        mondays,
        np.bincount(index, weights=possible, minlength=size).astype(np.int64),
        np.bincount(index, weights=attended, minlength=size).astype(np.int64),
    )


@dataclass(frozen=True)
class Window:
    weeks: int
    possible: int
    attended: int

    @property
    def percent(self) -> float | None:
        return None if not self.possible else self.attended / self.possible * 100


def windows(found: PupilWeeks, on: date, weeks: int, as_at: date) -> tuple[Window, Window]:
    """The pupil's last ``weeks`` school weeks before the week of ``on`` and first ``weeks``
    complete school weeks after it (a week is complete once its Friday is on or before
    ``as_at``); the intervention's own week is in neither."""
    monday = _monday(on.toordinal())
    before = np.searchsorted(found.mondays, monday, side="left")
    after = np.searchsorted(found.mondays, monday, side="right")
    last_complete = np.searchsorted(found.mondays, as_at.toordinal() - 4, side="right")
    b = slice(max(0, before - weeks), before)
    a = slice(after, min(after + weeks, max(after, last_complete)))

    def window(part: slice) -> Window:
        return Window(
            part.stop - part.start,
            int(found.possible[part].sum()),
            int(found.attended[part].sum()),
        )

    return window(b), window(a)


def on_roll(found: PupilWeeks, as_at: date) -> bool:
    """Whether the pupil still has marks: a week with a mark on or after the Monday a week
    before ``as_at``'s (an after-window cut short is then too recent, not a pupil who left)."""
    return bool(len(found.mondays)) and int(found.mondays[-1]) >= _monday(as_at.toordinal()) - 7


@dataclass(frozen=True)
class Occasion:
    """One intervention (or issued penalty notice) of a kind, for a pupil, on a day."""

    kind: str
    pupil_id: int
    on: date


@dataclass
class OutcomeRow:
    kind: str
    label: str
    counted: int = 0
    too_recent: int = 0
    no_register: int = 0
    improved: int = 0
    befores: list[float] = field(default_factory=list)
    afters: list[float] = field(default_factory=list)

    @property
    def median_before(self) -> float | None:
        return statistics.median(self.befores) if self.befores else None

    @property
    def median_after(self) -> float | None:
        return statistics.median(self.afters) if self.afters else None

    @property
    def median_change(self) -> float | None:
        if not self.befores:
            return None
        return statistics.median(a - b for a, b in zip(self.afters, self.befores, strict=True))

    @property
    def improved_percent(self) -> float | None:
        return None if not self.counted else self.improved / self.counted * 100


def occasions(ctx: Context, as_at: date) -> list[Occasion]:
    """Interventions of the compared kinds on cases the user may see, on or before ``as_at``
    (the latest record of each: an outcome update supersedes the first), and issued penalty
    notices (one per pupil and day of issue)."""
    newer = aliased(Intervention)
    kinds = [k for k, _ in OUTCOME_KINDS if k != InterventionKind.PENALTY_NOTICE.value]
    found = [
        Occasion(kind, pupil_id, on)
        for kind, pupil_id, on in ctx.session.execute(
            select(Intervention.kind, Case.pupil_id, Intervention.occurred_on)
            .join(Case, Case.id == Intervention.case_id)
            .where(
                ctx.scope.cases(),
                Intervention.kind.in_(kinds),
                Intervention.occurred_on <= as_at,
                ~exists().where(newer.supersedes_id == Intervention.id),
            )
            .order_by(Intervention.occurred_on, Intervention.id)
        )
    ]
    notices = ctx.session.execute(
        select(PenaltyNotice.pupil_id, PenaltyNotice.issued_on)
        .join(Case, Case.id == PenaltyNotice.case_id)
        .where(
            ctx.scope.cases(),
            PenaltyNotice.status.in_(ISSUED_NOTICES),
            PenaltyNotice.issued_on.is_not(None),
            PenaltyNotice.issued_on <= as_at,
        )
        .distinct()
        .order_by(PenaltyNotice.issued_on, PenaltyNotice.pupil_id)
    )
    found.extend(
        Occasion(InterventionKind.PENALTY_NOTICE.value, pupil_id, on) for pupil_id, on in notices
    )
    return found


def load_weeks(ctx: Context, pupils: dict[int, date], as_at: date) -> dict[int, PupilWeeks]:
    """Each pupil's school weeks from (about) ``pupils[id]`` to ``as_at``, every school: the
    registers of all of them read in a few queries, not one per pupil."""
    if not pupils:
        return {}
    first = min(pupils.values())
    years = list(range(academic_year_of(first), academic_year_of(as_at) + 1))
    parts: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = defaultdict(list)
    table = RegisterYear.__table__
    limit = as_at.toordinal()
    ordinals: dict[tuple[int, int], np.ndarray] = {}
    for chunk in _chunks(sorted(pupils)):
        for school_id, pupil_id, year, marks in ctx.session.execute(
            select(table.c.school_id, table.c.pupil_id, table.c.academic_year, table.c.marks).where(
                table.c.pupil_id.in_(chunk), table.c.academic_year.in_(years)
            )
        ):
            key = (school_id, year)
            index = session_index(ctx.calendar_for(school_id), year)
            if len(marks) != len(index):
                continue  # laid on a calendar since changed: not counted (as the statistics)
            if key not in ordinals:
                ordinals[key] = np.array([d.toordinal() for d, _ in index.sessions], dtype=np.int64)
            days = ordinals[key]
            codes = _codes([marks], len(index))[0]
            possible, attended, _, _, marked = _tables(_legacy(index))
            keep = (marked[codes] == 1) & (days <= limit) & (days >= pupils[pupil_id].toordinal())
            parts[pupil_id].append((days[keep], possible[codes][keep], attended[codes][keep]))
    found = {}
    for pupil_id, pieces in parts.items():
        found[pupil_id] = pupil_weeks(
            np.concatenate([p[0] for p in pieces]),
            np.concatenate([p[1] for p in pieces]),
            np.concatenate([p[2] for p in pieces]),
        )
    return found


def outcomes(ctx: Context, as_at: date, weeks: int = DEFAULT_WEEKS) -> list[OutcomeRow]:
    """Per compared kind: how many could be judged, the median attendance before and after,
    the median change (percentage points) and how many improved."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInput.one("weeks", weeks, f"a whole number of weeks from 1 to {MAX_WEEKS}")
    found = occasions(ctx, as_at)
    earliest: dict[int, date] = {}
    for item in found:
        start = item.on - timedelta(weeks=weeks + 1)  # the before window's first Monday or earlier
        # Weeks without a mark (holidays) are skipped, so reach back further for them.
        start -= timedelta(weeks=weeks + 8)
        earliest[item.pupil_id] = min(earliest.get(item.pupil_id, start), start)
    loaded = load_weeks(ctx, earliest, as_at)
    rows = {kind: OutcomeRow(kind, label) for kind, label in OUTCOME_KINDS}
    empty = pupil_weeks(np.zeros(0), np.zeros(0), np.zeros(0))
    for item in found:
        row = rows[item.kind]
        pupil_weeks_of = loaded.get(item.pupil_id, empty)
        before, after = windows(pupil_weeks_of, item.on, weeks, as_at)
        if after.weeks < weeks and on_roll(pupil_weeks_of, as_at):
            row.too_recent += 1
            continue
        if after.weeks < weeks or before.percent is None or after.percent is None:
            row.no_register += 1
            continue
        row.counted += 1
        row.befores.append(before.percent)
        row.afters.append(after.percent)
        row.improved += int(after.percent > before.percent)
    return list(rows.values())
