"""School register reports, each scoped to what the signed-in user may see.

- :func:`absentees`: the first-day contact list (pupils marked N for a day, with their parents'
  and carers' phone numbers in contact order);
- :func:`persistent_absentees`: pupils whose absence is at least 10 % of their own possible
  sessions (severe at 50 %), RULES.md §1.4;
- :func:`absence_map`: pupils absent together on the same sessions (suspected group truancy).

Scope: the school must be one the user may see (``Scope.schools``), else
:class:`~casework.errors.NotFound`; only pupils the user may see (``Scope.pupils``) are listed, so a
statutory officer sees only the pupils of their cases. Registers are read straight from
``register_year`` (one short string per pupil and year) on the school's session index, so a
school of 1,500 pupils is one query and one pass over its strings; nothing here writes.

Only recorded marks count: a session with no mark yet is neither possible nor absent. A pupil's
figures therefore start at their first mark, which is their admission when they joined during the
year (the DfE "year to date from the admission date" rule, RULES.md §1.4).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import combinations
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import queries
from casework.analytics.totals import Totals, totals
from casework.calendars import OutsideCalendar, TermCalendar
from casework.calendars.model import academic_year_of, year_label
from casework.durations import SessionOfDay
from casework.errors import Conflict, InvalidInput
from casework.models import Contact, Pupil, PupilContact, RegisterYear, School
from casework.registers.codes import StatClass, classify
from casework.registers.marks import CODE_TO_CHAR, NO_MARK, SessionIndex, decode, session_index
from casework.scope import Scope

# Reports and certificates cover at most a year: ask again for an earlier year.
MAX_RANGE_DAYS = 366
# RULES.md §1.4: persistent absence is >= 10 % of possible sessions, severe >= 50 %.
PERSISTENT_PERCENT = 10
SEVERE_PERCENT = 50
DEFAULT_MIN_SHARED = 3
ABSENCE_KINDS = ("unauthorised", "all")

_NOT_YET = CODE_TO_CHAR["N"]


class ReportContext(Protocol):
    """What a report needs from ``workflows.context.Context``: the transaction, the user's
    scope, today and each school's calendar."""

    session: Session
    scope: Scope

    def today(self) -> date: ...

    def calendar_for(self, school_id: int) -> TermCalendar: ...


# --- what the reports return ------------------------------------------------------------------


@dataclass(frozen=True)
class SchoolRef:
    id: int
    name: str
    urn: str


@dataclass(frozen=True)
class PupilRef:
    """A pupil as a report row names them: preferred name first, legal name for the record."""

    id: int
    upn: str
    name: str
    legal_name: str
    nc_year: int

    @classmethod
    def of(cls, pupil: Pupil) -> PupilRef:
        return cls(
            pupil.id,
            pupil.upn,
            pupil.display_name,
            f"{pupil.legal_forename} {pupil.legal_surname}",
            pupil.nc_year,
        )


@dataclass(frozen=True)
class ContactPhone:
    """A parent or carer to call, in the pupil's contact order (1 first)."""

    priority: int
    name: str
    relationship: str
    parental_responsibility: bool
    phone: str | None


@dataclass(frozen=True)
class Absentee:
    pupil: PupilRef
    sessions: tuple[str, ...]  # "AM", "PM" or both, the sessions marked N
    contacts: tuple[ContactPhone, ...]


@dataclass(frozen=True)
class AbsenteeReport:
    school: SchoolRef
    day: date
    open_sessions: tuple[str, ...]  # the sessions the school is open that day
    closed_because: str  # why sessions are missing ("Saturday", "INSET day"); "" when open
    rows: tuple[Absentee, ...]


@dataclass(frozen=True)
class PersistentAbsentee:
    pupil: PupilRef
    first_mark: date  # where the pupil's figures start (their admission, if later in the year)
    totals: Totals
    severe: bool


@dataclass(frozen=True)
class PersistentReport:
    school: SchoolRef
    start: date
    end: date
    pupils_counted: int  # pupils with at least one possible session in the range
    rows: tuple[PersistentAbsentee, ...]

    @property
    def severe(self) -> int:
        return sum(1 for row in self.rows if row.severe)


@dataclass(frozen=True)
class SharedSession:
    """A session on which two or more of a pair's or group's pupils were absent, and their codes
    (pupil id, code) in the order of the pair's or group's members."""

    day: date
    session: str
    codes: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class AbsencePair:
    first: PupilRef
    second: PupilRef
    sessions: tuple[SharedSession, ...]

    @property
    def shared(self) -> int:
        return len(self.sessions)


@dataclass(frozen=True)
class AbsenceGroup:
    """Pupils joined by pairs sharing at least ``min_shared`` sessions (a connected component):
    every member shares that many sessions with at least one other member, not necessarily with
    all. ``sessions`` are those on which at least two members were absent together."""

    members: tuple[PupilRef, ...]
    pairs: tuple[AbsencePair, ...]
    sessions: tuple[SharedSession, ...]


@dataclass(frozen=True)
class AbsenceMap:
    school: SchoolRef
    start: date
    end: date
    absence: str  # "unauthorised" or "all"
    min_shared: int
    sessions_in_range: int
    pupils_absent: int  # pupils with at least one counted absence in the range
    pairs: tuple[AbsencePair, ...]
    groups: tuple[AbsenceGroup, ...]


# --- periods ----------------------------------------------------------------------------------


def check_range(
    start: date, end: date, *, start_field: str = "start", end_field: str = "end"
) -> None:
    """Refuse a range that runs backwards or covers more than a year."""
    if end < start:
        raise InvalidInput.one(
            end_field, end.isoformat(), f"is on or after {start_field} ({start.isoformat()})"
        )
    if (end - start).days > MAX_RANGE_DAYS:
        raise InvalidInput.one(
            end_field,
            end.isoformat(),
            f"is at most {MAX_RANGE_DAYS} days after {start_field} ({start.isoformat()}): "
            "ask for one year at a time",
        )


def year_start(calendar: TermCalendar, day: date, field: str = "date") -> date:
    """The first day of the autumn term of ``day``'s academic year (1 August without terms)."""
    start_year = academic_year_of(day)
    try:
        terms = calendar.year(start_year, asked_about=day).terms
    except OutsideCalendar as outside:
        raise InvalidInput.one(field, day.isoformat(), str(outside)) from None
    first = min((t.first for t in terms), default=date(start_year, 8, 1))
    return first if first <= day else date(start_year, 8, 1)


def term_start(calendar: TermCalendar, day: date, field: str = "date") -> date:
    """The first day of the term ``day`` is in, or of the last term to start before it."""
    start_year = academic_year_of(day)
    try:
        terms = calendar.year(start_year, asked_about=day).terms
    except OutsideCalendar as outside:
        raise InvalidInput.one(field, day.isoformat(), str(outside)) from None
    started = [t.first for t in terms if t.first <= day]
    return max(started) if started else year_start(calendar, day, field)


# --- reading a school's registers ---------------------------------------------------------------


@dataclass(frozen=True)
class _Register:
    pupil: Pupil
    index: SessionIndex
    marks: str
    lo: int  # positions lo..hi-1 of the index are in the range asked about
    hi: int

    def in_range(self) -> Iterator[tuple[int, str]]:
        for position in range(self.lo, self.hi):
            char = self.marks[position]
            if char != NO_MARK:
                yield position, char


def _indexes(calendar: TermCalendar, start: date, end: date, field: str) -> dict[int, SessionIndex]:
    found = {}
    for year in range(academic_year_of(start), academic_year_of(end) + 1):
        try:
            found[year] = session_index(calendar, year)
        except InvalidInput as problem:
            raise InvalidInput.one(field, start.isoformat(), problem.problems[0].rule) from None
    return found


def _bounds(index: SessionIndex, start: date, end: date) -> tuple[int, int]:
    return (
        bisect_left(index.sessions, (start, "")),
        bisect_right(index.sessions, (end, "~")),
    )


def _registers(
    ctx: ReportContext, school: School, start: date, end: date, field: str = "start"
) -> tuple[dict[int, SessionIndex], list[_Register]]:
    """The school's session index for each year the range touches, and every register at the
    school in those years of pupils in scope that has sessions in the range."""
    indexes = _indexes(ctx.calendar_for(school.id), start, end, field)
    rows = ctx.session.execute(
        select(RegisterYear, Pupil)
        .join(Pupil, Pupil.id == RegisterYear.pupil_id)
        .where(
            RegisterYear.school_id == school.id,
            RegisterYear.academic_year.in_(list(indexes)),
            ctx.scope.pupils(),
        )
        .order_by(RegisterYear.academic_year, RegisterYear.pupil_id)
    ).all()
    found = []
    for row, pupil in rows:
        index = indexes[row.academic_year]
        if row.index_digest != index.digest or len(row.marks) != len(index):
            raise Conflict(
                f"the {year_label(row.academic_year)} register (row {row.id}) was recorded on a "
                f"different calendar for {index.school} ({row.sessions} sessions then, "
                f"{len(index)} now): it must be re-laid on the current calendar before use"
            )
        lo, hi = _bounds(index, start, end)
        if lo < hi:
            found.append(_Register(pupil, index, row.marks, lo, hi))
    return indexes, found


def _school(ctx: ReportContext, school_id: int) -> tuple[School, SchoolRef]:
    school = queries.school(ctx.session, ctx.scope, school_id)
    return school, SchoolRef(school.id, school.name, school.urn)


def _sort_key(pupil: Pupil) -> tuple:
    surname = (pupil.preferred_surname or pupil.legal_surname).casefold()
    forename = (pupil.preferred_forename or pupil.legal_forename).casefold()
    return (pupil.nc_year, surname, forename, pupil.id)


def _contacts(ctx: ReportContext, pupil_ids: Iterable[int]) -> dict[int, tuple[ContactPhone, ...]]:
    ids = list(pupil_ids)
    if not ids:
        return {}
    found: dict[int, list[ContactPhone]] = defaultdict(list)
    rows = ctx.session.execute(
        select(PupilContact, Contact)
        .join(Contact, Contact.id == PupilContact.contact_id)
        .where(PupilContact.pupil_id.in_(ids))
        .order_by(PupilContact.pupil_id, PupilContact.priority, Contact.id)
    ).all()
    for link, contact in rows:
        name = " ".join(x for x in (contact.title, contact.forename, contact.surname) if x)
        found[link.pupil_id].append(
            ContactPhone(
                link.priority,
                name,
                link.relationship_to_pupil,
                link.parental_responsibility,
                contact.phone,
            )
        )
    return {pupil_id: tuple(items) for pupil_id, items in found.items()}


# --- 1. the first-day contact list --------------------------------------------------------------


def absentees(ctx: ReportContext, school_id: int, day: date | None = None) -> AbsenteeReport:
    """Pupils marked N (absent, reason not yet established) for a session of ``day`` (today by
    default), with the sessions marked N and each pupil's parents and carers in contact order with
    their phone numbers, for the school's first-day contact calls. Sorted by year group, then
    surname and forename (preferred names where recorded).

    Only N marks are listed. A pupil with no mark at all for a session is not: an empty session
    may just be a register not yet taken, and the register rule is that every session gets a
    mark, so the school records N for an absence it cannot yet explain.
    """
    school, ref = _school(ctx, school_id)
    day = day or ctx.today()
    calendar = ctx.calendar_for(school.id)
    try:
        info = calendar.info(day)
    except OutsideCalendar as outside:
        raise InvalidInput.one("date", day.isoformat(), str(outside)) from None
    open_sessions = tuple(
        which.value.upper()
        for which in (SessionOfDay.AM, SessionOfDay.PM)
        if which in info.sessions
    )
    rows: list[tuple[Pupil, tuple[str, ...]]] = []
    if open_sessions:
        for register in _registers(ctx, school, day, day, "date")[1]:
            marked = tuple(
                register.index.sessions[position][1]
                for position, char in register.in_range()
                if char == _NOT_YET
            )
            if marked:
                rows.append((register.pupil, marked))
    rows.sort(key=lambda item: _sort_key(item[0]))
    phones = _contacts(ctx, (pupil.id for pupil, _ in rows))
    return AbsenteeReport(
        ref,
        day,
        open_sessions,
        info.why,
        tuple(
            Absentee(PupilRef.of(pupil), sessions, phones.get(pupil.id, ()))
            for pupil, sessions in rows
        ),
    )


# --- 3. persistent and severe absence -----------------------------------------------------------


def persistent_absentees(
    ctx: ReportContext, school_id: int, start: date | None = None, end: date | None = None
) -> PersistentReport:
    """Pupils whose absence (authorised and unauthorised) is at least 10 % of their own possible
    sessions from ``start`` to ``end`` (the academic year to date by default), severe at 50 %
    (RULES.md §1.4; exactly 10 % counts). Each pupil's figures start at their first mark in the
    range, so a pupil admitted during the year is counted from their admission. Sorted severe
    first, then by absence rate (highest first), then year group and surname.
    """
    school, ref = _school(ctx, school_id)
    end = end or ctx.today()
    start = start or year_start(ctx.calendar_for(school.id), end, "end")
    check_range(start, end)
    marks: dict[int, list[tuple[date, str, str]]] = defaultdict(list)
    pupils: dict[int, Pupil] = {}
    for register in _registers(ctx, school, start, end)[1]:
        pupils[register.pupil.id] = register.pupil
        for position, char in register.in_range():
            day, session = register.index.sessions[position]
            marks[register.pupil.id].append((day, session, decode(char)))
    counted = 0
    found = []
    for pupil_id, recorded in marks.items():
        figures = totals(recorded)
        if figures.possible <= 0:
            continue
        counted += 1
        if figures.absent * 100 >= PERSISTENT_PERCENT * figures.possible:
            severe = figures.absent * 100 >= SEVERE_PERCENT * figures.possible
            first = min(day for day, _, _ in recorded)
            found.append(PersistentAbsentee(PupilRef.of(pupils[pupil_id]), first, figures, severe))
    found.sort(
        key=lambda row: (
            not row.severe,
            -row.totals.absent / row.totals.possible,
            _sort_key(pupils[row.pupil.id]),
        )
    )
    return PersistentReport(ref, start, end, counted, tuple(found))


# --- 4. absence mapping -------------------------------------------------------------------------


def _absence_chars(absence: str) -> frozenset[str]:
    if absence not in ABSENCE_KINDS:
        raise InvalidInput.one("absence", absence, 'is "unauthorised" or "all"')
    wanted = {StatClass.UNAUTHORISED_ABSENCE}
    if absence == "all":
        wanted.add(StatClass.AUTHORISED_ABSENCE)
    found = set()
    for code, char in CODE_TO_CHAR.items():
        # A date before the 2024 codes, so legacy codes classify with their historic class.
        if classify(code, on=date(2024, 8, 1)).stat_class in wanted:
            found.add(char)
    return frozenset(found)


def absence_map(
    ctx: ReportContext,
    school_id: int,
    start: date | None = None,
    end: date | None = None,
    *,
    min_shared: int = DEFAULT_MIN_SHARED,
    absence: str = "unauthorised",
) -> AbsenceMap:
    """Pupils absent on the same sessions from ``start`` to ``end`` (this term to date by
    default): every pair of pupils absent together on at least ``min_shared`` sessions, with the
    sessions and each pupil's code, and the groups those pairs join.

    ``absence`` is ``"unauthorised"`` (G, N, O, U: the default, since truancy is unauthorised) or
    ``"all"`` (authorised absence too). Groups are connected components: pupils A and B are in a
    group when a chain of qualifying pairs joins them, so a group is easy to explain pair by pair.

    Cost: one pass over the school's mark strings builds an inverted index (session to the pupils
    absent then); pairs are counted per session, so the work is the sum over sessions of the
    square of that session's absentees, small for unauthorised absence even at 1,500 pupils.
    """
    if not isinstance(min_shared, int) or min_shared < 2:
        raise InvalidInput.one(
            "min_shared",
            min_shared,
            "is a whole number of at least 2 (one shared session is chance)",
        )
    chars = _absence_chars(absence)
    school, ref = _school(ctx, school_id)
    calendar = ctx.calendar_for(school.id)
    end = end or ctx.today()
    start = start or term_start(calendar, end, "end")
    check_range(start, end)

    indexes, registers = _registers(ctx, school, start, end)
    sessions_in_range = sum(
        hi - lo for lo, hi in (_bounds(i, start, end) for i in indexes.values())
    )
    pupils: dict[int, Pupil] = {}
    # The inverted index: session -> pupils absent then; and each pupil's absences with codes.
    by_session: dict[tuple[date, str], list[int]] = defaultdict(list)
    absences: dict[int, dict[tuple[date, str], str]] = defaultdict(dict)
    for register in registers:
        for position, char in register.in_range():
            if char in chars:
                key = register.index.sessions[position]
                pupil_id = register.pupil.id
                pupils[pupil_id] = register.pupil
                by_session[key].append(pupil_id)
                absences[pupil_id][key] = decode(char)

    counts: dict[tuple[int, int], int] = defaultdict(int)
    for absent in by_session.values():
        if len(absent) > 1:
            for pair in combinations(sorted(absent), 2):
                counts[pair] += 1
    qualifying = [pair for pair, shared in counts.items() if shared >= min_shared]

    def ordered(ids: Iterable[int]) -> list[int]:
        return sorted(ids, key=lambda pupil_id: _sort_key(pupils[pupil_id]))

    def shared_sessions(members: list[int], at_least: int) -> tuple[SharedSession, ...]:
        keys: dict[tuple[date, str], int] = defaultdict(int)
        for member in members:
            for key in absences[member]:
                keys[key] += 1
        return tuple(
            SharedSession(
                key[0],
                key[1],
                tuple((m, absences[m][key]) for m in members if key in absences[m]),
            )
            for key in sorted(k for k, n in keys.items() if n >= at_least)
        )

    pairs: dict[tuple[int, int], AbsencePair] = {}
    for a, b in qualifying:
        first, second = ordered((a, b))
        pairs[(a, b)] = AbsencePair(
            PupilRef.of(pupils[first]),
            PupilRef.of(pupils[second]),
            shared_sessions([first, second], 2),
        )

    # Union-find over the qualifying pairs: each connected component is a group.
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in qualifying:
        parent[root(a)] = root(b)
    members_of: dict[int, list[int]] = defaultdict(list)
    for pupil_id in list(parent):
        members_of[root(pupil_id)].append(pupil_id)
    pairs_of: dict[int, list[AbsencePair]] = defaultdict(list)
    for (a, _), pair in pairs.items():
        pairs_of[root(a)].append(pair)

    def pair_key(pair: AbsencePair) -> tuple:
        return (-pair.shared, _sort_key(pupils[pair.first.id]), _sort_key(pupils[pair.second.id]))

    groups = []
    for top, ids in members_of.items():
        members = ordered(ids)
        groups.append(
            AbsenceGroup(
                tuple(PupilRef.of(pupils[m]) for m in members),
                tuple(sorted(pairs_of[top], key=pair_key)),
                shared_sessions(members, 2),
            )
        )
    groups.sort(
        key=lambda g: (
            -len(g.members),
            -max(p.shared for p in g.pairs),
            _sort_key(pupils[g.members[0].id]),
        )
    )
    return AbsenceMap(
        ref,
        start,
        end,
        absence,
        min_shared,
        sessions_in_range,
        len(absences),
        tuple(sorted(pairs.values(), key=pair_key)),
        tuple(groups),
    )


__all__ = [
    "ABSENCE_KINDS",
    "DEFAULT_MIN_SHARED",
    "MAX_RANGE_DAYS",
    "AbsenceGroup",
    "AbsenceMap",
    "AbsencePair",
    "Absentee",
    "AbsenteeReport",
    "ContactPhone",
    "PersistentAbsentee",
    "PersistentReport",
    "PupilRef",
    "ReportContext",
    "SchoolRef",
    "SharedSession",
    "absence_map",
    "absentees",
    "check_range",
    "persistent_absentees",
    "term_start",
    "year_start",
]
