"""Every flag for every pupil of a county at once: the vectorised engine of the daily scan.

The pure :func:`casework.analytics.flags.pupil_flags` explains one pupil's flags with their
sessions; this module computes the same flags (the same conventions, exactly: see that module's
notes) for a whole school-year batch with numpy: a county of 250,000 pupils in well under a second.

Input, per school and academic year:

- the school's :class:`~casework.registers.marks.SessionIndex` (or a :class:`Layout` made from
  it once with :func:`layout`);
- the pupils' ids and mark strings (``register_year.marks``: one stored character per session of
  that index, so every string of the batch has the same length);
- optionally a :class:`Prior` per pupil: the pupil's most recent school weeks BEFORE this year
  (their counted, U, possible and attended sessions, and the length of the run of continuous
  unauthorised absence they ended on), so the rolling windows, trends and runs look back across
  the year boundary, even when last year was at another school. Build it with
  :func:`prior_from_strings` from last year's strings (each school's own layout) and line it up
  with :func:`align_prior`. It must hold the pupil's last :func:`lookback_weeks` school weeks (or
  all they have), all before the range start's week and this year's first week.

How it works: each school day is laid in a fixed grid of school weeks x weekday slots (a slot
without a session is a pad). A day's AM and PM characters, read as one 16-bit number, go through
a 65,536-entry table to the day's packed counts: possible, attended, "day of continuous
absence", unauthorised, counted, U, I and marked, four bits each (built from the 256 stored
characters and the profile's counted codes). A week is then the sum of its 5 slots (7 when
the school has weekend sessions; at most 14 sessions, so fields never carry). Everything after
that works on small (weeks x pupils) arrays: totals; rolling windows through cumulative sums
over [prior weeks | this year's weeks] (each pupil's own school weeks, skipping weeks where
they have no mark); trends; and, only for the few pupils with enough days of continuous
absence, runs over days. Rows are worked ``chunk`` at a time (about 2,000) so the working set
stays in the processor's cache; peak memory is tens of MB beyond the input strings. On this
project's 2-core machine a county of 250,000 pupils x 390 sessions takes about 0.4-0.6 s (and
about as long again to build last year's :class:`Prior`, which only changes when last year's
registers are amended, so it can be kept between scans).

Limits: a pupil with two registers in the same year (dual registration, or a change of school
within the year) is in two batches here; merge those few with :func:`~casework.analytics.flags
.pupil_flags` on their timeline instead (its school weeks are the union of both schools').
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from functools import lru_cache

import numpy as np

from casework.analytics.flags import (
    BELOW_95,
    LATE,
    NEGLECT,
    PERSISTENT,
    SEVERE,
    THRESHOLD,
    TREND,
    continuous_key,
    counted_set,
    flag_keys,
    illness_key,
)
from casework.registers.codes import IN_FORCE_FROM, LEGACY, StatClass, _resolve
from casework.registers.marks import CHAR_TO_CODE, NO_MARK, SessionIndex
from config.profiles import AnalyticsRules

# Fields of a packed count (uint32), four bits each: a day holds at most 2 sessions and a school
# week at most 14, so sums over a week never carry into the next field.
POSSIBLE, ATTENDED, ABSENT_DAY, UNAUTHORISED, COUNTED, LATE_U, ILLNESS, MARKED = range(8)
# ABSENT_DAY is a day's, not a session's: 1 when the day has a possible session and every
# possible session is unauthorised (a day of continuous absence).
_INVALID = 4  # added to MARKED by a character that is not a stored mark (a day then holds >= 4)
_PAD = 0  # the byte standing for "no session" in a day's AM/PM pair


@dataclass(frozen=True)
class Layout:
    """A school-year session index prepared for the engine (make once per school-year).

    Days are laid on a grid of school weeks x weekday slots (Monday to Friday, or to Sunday when
    the school has weekend sessions); each slot holds the day's AM and PM characters, a slot
    without a session holds the pad byte. Summing a week is then adding its slots.
    """

    school: str
    start_year: int
    sessions: int  # length of every mark string
    slots: int  # weekday slots per week (5 or 7)
    week_mondays: np.ndarray  # (K,) ordinal of the Monday of each week with a session
    session_ordinals: np.ndarray  # (L,) ordinal of each session's day
    blocks: tuple[tuple[int, int, int], ...]  # (session, byte in the grid, length) copies
    legacy_allowed: bool  # the year has sessions before 19 August 2024

    @property
    def weeks(self) -> int:
        return len(self.week_mondays)

    @property
    def first_monday(self) -> int:
        return int(self.week_mondays[0]) if self.weeks else 0

    def slot_of(self, ordinal: int) -> int:
        """The first slot on or after the day ``ordinal`` (the grid's size when none)."""
        mondays = self.week_mondays
        k = int(np.searchsorted(mondays, ordinal - 6, side="left"))  # first week ending >= day
        if k >= len(mondays):
            return len(mondays) * self.slots
        offset = ordinal - int(mondays[k])
        return k * self.slots + min(max(offset, 0), self.slots)


def layout(index: SessionIndex) -> Layout:
    """Prepare a school-year's session index for :func:`county_flags`."""
    weekend = any(day.weekday() >= 5 for day, _ in index.sessions)
    slots = 7 if weekend else 5
    mondays: list[int] = []
    dest = []
    for day, name in index.sessions:
        ordinal = day.toordinal()
        monday = ordinal - day.weekday()
        if not mondays or mondays[-1] != monday:
            mondays.append(monday)
        slot = (len(mondays) - 1) * slots + day.weekday()
        dest.append(2 * slot + (0 if name == "AM" else 1))
    blocks: list[tuple[int, int, int]] = []
    for src, d in enumerate(dest):
        if blocks and d - src == blocks[-1][1] - blocks[-1][0]:
            s0, d0, n = blocks[-1]
            blocks[-1] = (s0, d0, n + 1)
        else:
            blocks.append((src, d, 1))
    first_day = index.sessions[0][0] if index.sessions else None
    return Layout(
        school=index.school,
        start_year=index.start_year,
        sessions=len(index),
        slots=slots,
        week_mondays=np.array(mondays, dtype=np.int64),
        session_ordinals=np.array([d.toordinal() for d, _ in index.sessions], dtype=np.int64),
        blocks=tuple(blocks),
        legacy_allowed=first_day is not None and first_day < IN_FORCE_FROM,
    )


# --- lookup tables ----------------------------------------------------------------------------


def _session_fields(code: str, counted: frozenset[str]) -> dict[int, int]:
    entry = _resolve(code)
    stat = entry.stat_class
    current = entry.legacy_code is None
    fields = {MARKED: 1}
    if stat is not StatClass.NOT_POSSIBLE:
        fields[POSSIBLE] = 1
    if stat in (StatClass.PRESENT, StatClass.APPROVED_EDUCATIONAL_ACTIVITY):
        fields[ATTENDED] = 1
    if stat is StatClass.UNAUTHORISED_ABSENCE:
        fields[UNAUTHORISED] = 1
        if current and entry.code in counted:
            fields[COUNTED] = 1
        if current and entry.code == "U":
            fields[LATE_U] = 1
    if current and entry.code == "I":
        fields[ILLNESS] = 1
    return fields


@lru_cache(maxsize=32)
def _char_table(counted: frozenset[str], legacy_allowed: bool) -> np.ndarray:
    """Stored character -> packed counts of one session (ABSENT_DAY is left to the day)."""
    table = np.full(256, _INVALID << (4 * MARKED), dtype=np.uint32)
    table[_PAD] = 0
    table[ord(NO_MARK)] = 0
    for char, code in CHAR_TO_CODE.items():
        if code in LEGACY and not legacy_allowed:
            continue  # a legacy code from 19 August 2024 is not a stored mark: invalid
        fields = _session_fields(code, counted)
        table[ord(char)] = sum(v << (4 * f) for f, v in fields.items())
    return table


@lru_cache(maxsize=32)
def _pair_table(counted: frozenset[str], legacy_allowed: bool) -> np.ndarray:
    """A day's AM and PM characters read as one little-endian 16-bit number (AM + 256 * PM)
    -> the day's packed counts, with ABSENT_DAY set on a day of continuous absence."""
    one = _char_table(counted, legacy_allowed).astype(np.int64)
    day = one[None, :] + one[:, None]  # [pm, am]: symmetric
    possible = (day >> (4 * POSSIBLE)) & 0xF
    unauthorised = (day >> (4 * UNAUTHORISED)) & 0xF
    absent = (possible > 0) & (possible == unauthorised)
    day = day + (absent.astype(np.int64) << (4 * ABSENT_DAY))
    return day.reshape(-1).astype(np.uint32)


# --- the prior weeks --------------------------------------------------------------------------


def lookback_weeks(rules: AnalyticsRules) -> int:
    """How many earlier school weeks a pupil's :class:`Prior` must hold (or all they have)."""
    trend = max(rules.trend_school_weeks, default=0)
    return max(rules.threshold_school_weeks, rules.late_u_school_weeks, 2 * trend, 1) - 1


@dataclass(frozen=True)
class Prior:
    """Each pupil's most recent school weeks before the batch's year, right-aligned (the last
    column is the latest week; columns without a week have Monday 0 and zero counts), and the
    run of continuous unauthorised absence (school days) they ended on."""

    week_monday: np.ndarray  # (n, P) int64 ordinals of Mondays; 0 = no week
    counted: np.ndarray  # (n, P) int32
    late_u: np.ndarray  # (n, P) int32
    possible: np.ndarray  # (n, P) int32
    attended: np.ndarray  # (n, P) int32
    trailing_absent_days: np.ndarray  # (n,) int32

    def __len__(self) -> int:
        return len(self.trailing_absent_days)

    @property
    def weeks(self) -> int:
        return self.week_monday.shape[1]

    @classmethod
    def empty(cls, n: int, weeks: int) -> Prior:
        z = np.zeros((n, weeks), dtype=np.int32)
        return cls(
            np.zeros((n, weeks), dtype=np.int64),
            z,
            z.copy(),
            z.copy(),
            z.copy(),
            np.zeros(n, dtype=np.int32),
        )

    def take(self, rows: np.ndarray) -> Prior:
        """The priors of ``rows``; a row of -1 gives an empty prior."""
        rows = np.asarray(rows, dtype=np.int64)
        missing = rows < 0
        safe = np.where(missing, 0, rows)

        def pick(a: np.ndarray) -> np.ndarray:
            if len(a) == 0:
                return np.zeros((len(rows), *a.shape[1:]), dtype=a.dtype)
            out = a[safe]
            out[missing] = 0
            return out

        return Prior(
            pick(self.week_monday),
            pick(self.counted),
            pick(self.late_u),
            pick(self.possible),
            pick(self.attended),
            pick(self.trailing_absent_days),
        )

    def rows(self, first: int, stop: int) -> Prior:
        """Rows ``first`` to ``stop`` (views, no copy)."""
        return Prior(*(getattr(self, f)[first:stop] for f in _PRIOR_FIELDS))

    def last(self, weeks: int) -> Prior:
        """Keep (or pad to) the last ``weeks`` columns."""
        have = self.weeks

        def fit(a: np.ndarray) -> np.ndarray:
            if have >= weeks:
                return a[:, have - weeks :]
            return np.concatenate([np.zeros((len(a), weeks - have), dtype=a.dtype), a], axis=1)

        return Prior(
            fit(self.week_monday),
            fit(self.counted),
            fit(self.late_u),
            fit(self.possible),
            fit(self.attended),
            self.trailing_absent_days,
        )


def prior_from_strings(
    index: SessionIndex | Layout,
    marks: Sequence[str],
    *,
    rules: AnalyticsRules,
    as_at: date | None = None,
    weeks: int | None = None,
    chunk: int = 2048,
) -> Prior:
    """The :class:`Prior` of each pupil from their previous year's mark strings on that school's
    index (rows in the order of ``marks``), keeping their last ``weeks`` school weeks
    (:func:`lookback_weeks` by default) and the run of continuous absence they ended on."""
    lay = index if isinstance(index, Layout) else layout(index)
    keep = lookback_weeks(rules) if weeks is None else weeks
    last_day = int(lay.session_ordinals[-1]) if lay.sessions else 0
    grid = _Grid(lay, rules, as_at.toordinal() if as_at else last_day, min(chunk, len(marks)))
    parts = []
    for a in range(0, len(marks), chunk):
        packed = grid.packed(marks[a : a + chunk])
        m = len(packed)
        week = grid.weekly(packed)  # (weeks, pupils)
        has = _field(week, MARKED) > 0
        mondays = np.where(has, lay.week_mondays[: grid.weeks][:, None], 0)
        values = [mondays] + [_field(week, f).copy() for f in (COUNTED, LATE_U, POSSIBLE, ATTENDED)]
        partial = np.flatnonzero(has.sum(axis=0) < grid.weeks)
        if len(partial):  # weeks with marks to the bottom, in order
            order = np.argsort(has[:, partial], axis=0, kind="stable")
            for v in values:
                v[:, partial] = np.take_along_axis(v[:, partial], order, axis=0)
        trailing = np.zeros(m, dtype=np.int32)
        some = np.flatnonzero(_field(week, ABSENT_DAY).sum(axis=0) > 0)
        if len(some) and grid.width:
            run, _absent = _run_lengths(packed[some], np.zeros(len(some), dtype=np.int32))
            trailing[some] = run[:, -1]
        parts.append(Prior(*(np.ascontiguousarray(v.T) for v in values), trailing).last(keep))
    if not parts:
        return Prior.empty(0, keep)
    return Prior(*(np.concatenate([getattr(p, f) for p in parts]) for f in _PRIOR_FIELDS))


_PRIOR_FIELDS = ("week_monday", "counted", "late_u", "possible", "attended", "trailing_absent_days")


def align_prior(
    pupil_ids: Sequence[int] | np.ndarray, sources: Iterable[tuple[Sequence[int], Prior]]
) -> Prior:
    """One :class:`Prior` row per pupil of ``pupil_ids``, from ``(ids, prior)`` sources (last
    year's school batches). A pupil in no source gets an empty prior; a pupil in several (two
    schools last year) gets the one with the latest week: use ``pupil_flags`` for such pupils
    when the exact merge matters."""
    sources = list(sources)
    weeks = max((p.weeks for _, p in sources), default=0)
    priors = [p.last(weeks) for _, p in sources]
    if not priors:
        return Prior.empty(len(pupil_ids), weeks)
    joined = Prior(*(np.concatenate([getattr(p, f) for p in priors]) for f in _PRIOR_FIELDS))
    ids = np.concatenate([np.asarray(i, dtype=np.int64) for i, _ in sources])
    latest = joined.week_monday.max(axis=1) if weeks else np.zeros(len(ids), np.int64)
    order = np.lexsort((latest, ids))  # by id, then latest week
    ids_sorted = ids[order]
    last_of_id = np.r_[ids_sorted[1:] != ids_sorted[:-1], True]
    unique_ids, rows = ids_sorted[last_of_id], order[last_of_id]
    wanted = np.asarray(pupil_ids, dtype=np.int64)
    at = np.searchsorted(unique_ids, wanted)
    found = (at < len(unique_ids)) & (unique_ids[np.minimum(at, len(unique_ids) - 1)] == wanted)
    return joined.take(np.where(found, rows[np.minimum(at, len(unique_ids) - 1)], -1))


# --- the engine -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountyResult:
    """Per pupil (row ``i`` is ``pupil_ids[i]``): counts from ``start`` to ``as_at``, the best
    threshold and lateness window counts, and one boolean array per flag key."""

    pupil_ids: np.ndarray
    possible: np.ndarray
    attended: np.ndarray
    authorised: np.ndarray
    unauthorised: np.ndarray
    illness_sessions: np.ndarray
    best_threshold: np.ndarray  # most counted sessions in any threshold window
    best_late: np.ndarray  # most U marks in any lateness window
    flags: Mapping[str, np.ndarray]
    keys: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.pupil_ids)

    @property
    def absent(self) -> np.ndarray:
        return self.authorised + self.unauthorised


def met_flags(result: CountyResult, i: int) -> set[str]:
    """The flag keys row ``i`` of ``result`` meets."""
    return {key for key in result.keys if bool(result.flags[key][i])}


def county_flags(
    index: SessionIndex | Layout,
    pupil_ids: Sequence[int] | np.ndarray,
    marks: Sequence[str],
    *,
    rules: AnalyticsRules,
    as_at: date,
    start: date | None = None,
    prior: Prior | None = None,
    chunk: int = 2048,
    workers: int = 1,
) -> CountyResult:
    """Every flag for every pupil of a school-year batch on ``as_at`` (see the module notes).

    ``start`` is the range start for rates and illness (default: the year's first session day);
    ``prior`` (rows in the order of ``pupil_ids``) must hold only weeks before ``start``'s week
    and before the year's first week. ``chunk`` rows are worked on at a time (small enough to
    stay in the processor's cache); ``workers`` threads share the rows (numpy releases the GIL).
    Raises ValueError on a string of the wrong length, or a character that is not a stored mark
    in a session up to ``as_at`` (a legacy code in a year from 19 August 2024 included).
    """
    lay = index if isinstance(index, Layout) else layout(index)
    n = len(marks)
    if len(pupil_ids) != n:
        raise ValueError(f"{len(pupil_ids)} pupil ids for {n} mark strings")
    first_day = int(lay.session_ordinals[0]) if lay.sessions else as_at.toordinal()
    start_ord = start.toordinal() if start is not None else first_day
    start_monday = start_ord - date.fromordinal(start_ord).weekday()
    keep = lookback_weeks(rules)
    if prior is None:
        prior = Prior.empty(n, keep)
    elif len(prior) != n:
        raise ValueError(f"a prior of {len(prior)} rows for {n} pupils")
    else:
        limit = min(start_monday, lay.first_monday) if lay.weeks else start_monday
        if prior.weeks and int(prior.week_monday.max()) >= limit:
            raise ValueError(
                "the prior holds a week on or after the start's week or the year's first week"
            )
        prior = prior.last(keep)

    def run(rows: range) -> list[dict[str, np.ndarray]]:
        grid = _Grid(lay, rules, as_at.toordinal(), min(chunk, len(rows)))
        return [
            _batch(
                grid,
                marks[a : min(a + chunk, rows.stop)],
                prior.rows(a, min(a + chunk, rows.stop)),
                rules,
                start_ord,
                start_monday,
            )
            for a in range(rows.start, rows.stop, chunk)
        ]

    shares = max(1, min(workers, -(-n // chunk)))
    bounds = [n * i // shares for i in range(shares + 1)]
    ranges = [range(bounds[i], bounds[i + 1]) for i in range(shares)]
    if shares == 1:
        parts = run(ranges[0]) if n else []
    else:
        with ThreadPoolExecutor(shares) as pool:
            parts = [part for done in pool.map(run, ranges) for part in done]
    keys = flag_keys(rules)
    if not parts:
        empty = np.zeros(0, dtype=np.int32)
        return CountyResult(
            np.zeros(0, np.int64),
            empty,
            empty,
            empty,
            empty,
            empty,
            empty,
            empty,
            {k: np.zeros(0, bool) for k in keys},
            keys,
        )

    def joined(name: str) -> np.ndarray:
        return np.concatenate([p[name] for p in parts])

    return CountyResult(
        pupil_ids=np.asarray(pupil_ids, dtype=np.int64),
        possible=joined("possible"),
        attended=joined("attended"),
        authorised=joined("authorised"),
        unauthorised=joined("unauthorised"),
        illness_sessions=joined("illness"),
        best_threshold=joined("best_threshold"),
        best_late=joined("best_late"),
        flags={k: joined(k) for k in keys},
        keys=keys,
    )


class _Grid:
    """Reusable buffers for one school-year and ``as_at``: mark strings -> packed day slots."""

    def __init__(self, lay: Layout, rules: AnalyticsRules, as_at: int, rows: int) -> None:
        self.lay = lay
        self.used = int(np.searchsorted(lay.session_ordinals, as_at, side="right"))
        self.weeks = int(np.searchsorted(lay.week_mondays, as_at, side="right"))
        self.width = self.weeks * lay.slots
        self.blocks = [
            (src, dest, min(length, self.used - src))
            for src, dest, length in lay.blocks
            if src < self.used
        ]
        rows = max(rows, 1)
        self.pairs = np.zeros((rows, 2 * self.width), dtype=np.uint8)
        self.out = np.empty((rows, self.width), dtype=np.uint32)
        self.table = _pair_table(counted_set(tuple(rules.counted_codes)), lay.legacy_allowed)

    def packed(self, marks: Sequence[str]) -> np.ndarray:
        """(pupils, slots) packed counts of each day slot up to ``as_at``."""
        lay, m, width = self.lay, len(marks), self.lay.sessions
        try:
            data = "".join(marks).encode("ascii")
        except UnicodeEncodeError as exc:
            raise ValueError(f"a mark string holds a character that is not stored: {exc}") from exc
        if len(data) != m * width or b"\x00" in data:
            for i, text in enumerate(marks):
                if len(text) != width:
                    raise ValueError(
                        f"mark string {i} has {len(text)} characters; {lay.school}'s "
                        f"{lay.start_year} index has {width} sessions"
                    )
            raise ValueError("a mark string holds a character that is not stored")
        source = np.frombuffer(data, dtype=np.uint8).reshape(m, width)
        pairs = self.pairs[:m]
        for src, dest, length in self.blocks:
            pairs[:, dest : dest + length] = source[:, src : src + length]
        out = self.out[:m]
        np.take(self.table, pairs.view("<u2"), out=out, mode="wrap")
        if out.size and int(out.max()) >> (4 * MARKED) >= _INVALID:
            raise ValueError("a mark string holds a character that is not a stored mark")
        return out

    def weekly(self, packed: np.ndarray) -> np.ndarray:
        """(weeks, pupils) packed sums of each school week's slots (pupils along the rows, so
        the sums, cumulative sums and maxima over weeks that follow run across whole rows)."""
        slots = packed.reshape(len(packed), self.weeks, self.lay.slots)
        week = np.empty((self.weeks, len(packed)), dtype=np.uint32)
        np.copyto(week, slots[:, :, 0].T)
        for i in range(1, self.lay.slots):
            week += slots[:, :, i].T
        return week


def _run_lengths(packed: np.ndarray, carried: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pupils, slots) from packed days: the length of the run of continuous unauthorised
    absence on each day slot (0 on a day that breaks it; carried over slots with no possible
    session; ``carried`` days before the first), and whether each slot is a day of continuous
    absence. Only run on the few pupils who can have a run."""
    absent = ((packed >> np.uint32(4 * ABSENT_DAY)) & np.uint32(1)).astype(bool)
    reset = ~absent & ((packed & np.uint32(0xF << (4 * POSSIBLE))) > 0)
    total = np.cumsum(absent, axis=1, dtype=np.int32)
    total += carried.astype(np.int32)[:, None]
    base = np.maximum.accumulate(np.where(reset, total, 0), axis=1)
    return total - base, absent


@lru_cache(maxsize=64)
def _ratio(value: float) -> tuple[int, int]:
    f = Fraction(str(value))
    return f.numerator, f.denominator


def _field(packed: np.ndarray, field: int) -> np.ndarray:
    """One 4-bit field of packed counts, as int32 (a free view: the values are small)."""
    return ((packed >> np.uint32(4 * field)) & np.uint32(0xF)).view(np.int32)


def _batch(
    grid: _Grid,
    marks: Sequence[str],
    prior: Prior,
    rules: AnalyticsRules,
    start_ord: int,
    start_monday: int,
) -> dict[str, np.ndarray]:
    """One chunk. Week-level arrays are (weeks, pupils)."""
    m, lay, k = len(marks), grid.lay, grid.weeks
    packed = grid.packed(marks)
    week = grid.weekly(packed)
    fields = {f: _field(week, f) for f in range(8)}

    # From start to as_at: whole weeks from start's, less the slots of that week before start.
    first_slot = min(lay.slot_of(start_ord), grid.width)
    first_week = first_slot // lay.slots
    before = None
    for slot in range(first_week * lay.slots, first_slot):
        before = packed[:, slot].copy() if before is None else before + packed[:, slot]

    def total(f: int) -> np.ndarray:
        found = fields[f][first_week:].sum(axis=0, dtype=np.int32)
        return found if before is None else found - _field(before, f)

    possible, attended = total(POSSIBLE), total(ATTENDED)
    unauthorised, illness = total(UNAUTHORISED), total(ILLNESS)
    absent = possible - attended
    out: dict[str, np.ndarray] = {
        "possible": possible,
        "attended": attended,
        "authorised": absent - unauthorised,
        "unauthorised": unauthorised,
        "illness": illness,
    }

    # Rates: exact integer comparisons, only with possible sessions.
    has_possible = possible > 0
    p, q = _ratio(rules.persistent_percent)
    out[PERSISTENT] = has_possible & (absent.astype(np.int64) * 100 * q >= p * possible)
    p, q = _ratio(rules.severe_percent)
    out[SEVERE] = has_possible & (absent.astype(np.int64) * 100 * q >= p * possible)
    p, q = _ratio(rules.concern_below_percent)
    out[BELOW_95] = has_possible & (attended.astype(np.int64) * 100 * q < p * possible)
    p, q = _ratio(rules.neglect_at_or_below_percent)
    out[NEGLECT] = has_possible & (attended.astype(np.int64) * 100 * q <= p * possible)
    p, q = _ratio(rules.illness_days)
    out[illness_key(rules.illness_days)] = (illness > 0) & (illness.astype(np.int64) * q >= 2 * p)

    # The pupil's own school weeks (weeks with a mark), in order after their prior weeks.
    has = fields[MARKED] > 0
    counts = {f: fields[f] for f in (COUNTED, LATE_U, POSSIBLE, ATTENDED)}
    mondays = np.where(has, lay.week_mondays[:k][:, None], 0)
    n_has = has.sum(axis=0)
    partial = np.flatnonzero(n_has < k)
    if len(partial):
        order = np.argsort(~has[:, partial], axis=0, kind="stable")
        mondays[:, partial] = np.take_along_axis(mondays[:, partial], order, axis=0)
        for f in counts:
            counts[f] = counts[f].copy()
            counts[f][:, partial] = np.take_along_axis(counts[f][:, partial], order, axis=0)

    # Cumulative sums over [prior weeks | current weeks] of the four weekly counts at once, as
    # row additions (numpy's cumsum along an axis of short rows is far slower).
    width = prior.weeks  # at least every window and trend lookback less one
    series = (COUNTED, LATE_U, POSSIBLE, ATTENDED)
    seq = np.empty((len(series), width + k, m), dtype=np.int32)
    for i, (f, before_year) in enumerate(
        zip(series, (prior.counted, prior.late_u, prior.possible, prior.attended), strict=True)
    ):
        seq[i, :width] = before_year.T
        seq[i, width:] = counts[f]
    c = np.empty((len(series), width + k + 1, m), dtype=np.int32)
    c[:, 0] = 0
    for j in range(width + k):
        np.add(c[:, j], seq[:, j], out=c[:, j + 1])
    cumulative = {f: c[i] for i, f in enumerate(series)}
    window_ends = (np.arange(k)[:, None] < n_has[None, :]) & (mondays >= start_monday)

    def best(f: int, size: int) -> np.ndarray:
        c = cumulative[f]
        sums = c[width + 1 :] - c[width + 1 - size : width + 1 - size + k]
        return np.where(window_ends, sums, 0).max(axis=0, initial=0)

    out["best_threshold"] = best(COUNTED, rules.threshold_school_weeks)
    out[THRESHOLD] = out["best_threshold"] >= rules.threshold_sessions
    out["best_late"] = best(LATE_U, rules.late_u_school_weeks)
    out[LATE] = out["best_late"] >= rules.late_u_marks

    # Trend: the last n of the pupil's school weeks against the n before.
    rows = np.arange(m)
    n_prior = (prior.week_monday > 0).sum(axis=1)
    last_monday = mondays[np.maximum(n_has - 1, 0), rows] if k else np.zeros(m, np.int64)
    current = (n_has > 0) & (last_monday >= start_monday)
    p, q = _ratio(rules.trend_drop_points)
    trend = np.zeros(m, dtype=bool)
    end = width + n_has
    ca, cp = cumulative[ATTENDED], cumulative[POSSIBLE]
    for size in rules.trend_school_weeks:
        enough = current & (n_prior + n_has >= 2 * size)
        mid, begin = np.maximum(end - size, 0), np.maximum(end - 2 * size, 0)
        a_l = (ca[end, rows] - ca[mid, rows]).astype(np.int64)
        p_l = (cp[end, rows] - cp[mid, rows]).astype(np.int64)
        a_b = (ca[mid, rows] - ca[begin, rows]).astype(np.int64)
        p_b = (cp[mid, rows] - cp[begin, rows]).astype(np.int64)
        fell = 100 * (a_b * p_l - a_l * p_b) * q >= p * p_b * p_l
        trend |= enough & (p_l > 0) & (p_b > 0) & fell
    out[TREND] = trend

    # Continuous absence: only pupils with enough days of continuous absence can have a run.
    lengths = sorted(rules.continuous_absence_days)
    for n in lengths:
        out[continuous_key(n)] = np.zeros(m, dtype=bool)
    if lengths:
        absent_days = fields[ABSENT_DAY].sum(axis=0) + prior.trailing_absent_days
        candidates = np.flatnonzero(absent_days >= lengths[0])
        if len(candidates):
            runs, absent_day = _run_lengths(
                packed[candidates], prior.trailing_absent_days[candidates]
            )
            ending = np.where(absent_day[:, first_slot:], runs[:, first_slot:], 0)
            longest = ending.max(axis=1, initial=0)
            for n in lengths:
                out[continuous_key(n)][candidates] = longest >= n
    return out
