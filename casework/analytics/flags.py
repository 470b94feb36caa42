"""The attendance flags that drive casework, each listing the sessions that produced it.

:func:`pupil_flags` returns the flags a pupil MEETS on ``as_at``. The numbers come from the LA
profile's ``[analytics]`` table (``config.profiles.AnalyticsRules``; the penalty-notice threshold
is ``[notice_to_improve]``'s, copied in when the profile loads). Every flag carries a plain-English
explanation with its figures, the figures themselves, and the sessions that produced it.

Conventions (the county engine, ``casework.analytics.county``, follows exactly the same ones):

- Only marked sessions count; a session with no mark yet is not in the timeline. Sessions after
  ``as_at`` are ignored everywhere.
- **Rates** (``persistent_absence``, ``severe_absence``, ``below_95``,
  ``educational_neglect_indicator``) and **illness** count the sessions from ``start`` to
  ``as_at`` (the year to date: a pupil admitted later simply has no marks before admission). They
  need at least one possible session, and compare exactly (integers), so exactly 10 % absence is
  persistent absence and exactly 95 % attendance is not below 95 %.
- **School week** (for a pupil): a Monday-to-Sunday week in which the pupil has at least one
  marked session, of any code, at any school (CALENDARS.md; RULES.md §6). Weeks with no sessions
  (holidays, half terms) are skipped, so a window stretches across them, across terms, years
  and schools.
- **Rolling windows** (``penalty_threshold``, ``late_after_close``): a window is the run of
  ``n`` consecutive school weeks ending at one of the pupil's school weeks (fewer at the very start
  of the pupil's history). A window counts when its last week is on or after ``start``'s week, so
  windows may reach back before ``start``: load the timeline from far enough back (a year before
  ``start`` is plenty) to look across a summer or half-term break and a change of school. The
  sessions listed are those of the window with the most counted sessions; on a tie, the LATEST
  such window (so the flag shows the current position).
- **School day** (for a pupil): a day with at least one possible session. A day of **continuous
  absence** is one where every possible session is unauthorised (G, N, O, U); a day with no
  possible session (only D, Q, X, Y1-Y7, Z, # marks) neither counts nor breaks a run. A run
  counts when its last day is on or after ``start`` (it may begin before: 20 school days run
  across the summer). The latest run reaching the length is listed, whole.
- **Trend**: attendance in the pupil's last ``n`` school weeks up to ``as_at`` against the ``n``
  before (for each ``n`` in ``trend_school_weeks``, 3 and 6 nationally); met when either falls
  by ``trend_drop_points`` percentage points or more (exactly). Needs the last week on or after
  ``start``'s week and 2n school weeks in the timeline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from functools import lru_cache
from types import MappingProxyType

from casework.analytics.timeline import SessionMark, Timeline, timeline_of
from casework.analytics.totals import code_class, percent_text, totals
from casework.calendars.model import long_date
from casework.errors import InvalidInput
from casework.registers.codes import CODES, StatClass
from casework.vocabulary import OPEN_STAGES
from config.profiles import AnalyticsRules

PERSISTENT = "persistent_absence"
SEVERE = "severe_absence"
BELOW_95 = "below_95"
NEGLECT = "educational_neglect_indicator"
THRESHOLD = "penalty_threshold"
LATE = "late_after_close"
TREND = "declining_trend"
CONTINUOUS_PREFIX = "continuous_absence_"

Figure = float | int | str | None


@dataclass(frozen=True)
class Flag:
    key: str
    title: str
    explanation: str
    sessions: tuple[SessionMark, ...]
    figures: Mapping[str, Figure]


def continuous_key(days: int) -> str:
    return f"{CONTINUOUS_PREFIX}{days}"


def illness_key(days: float) -> str:
    return f"illness_{_number(days)}_days"


def flag_keys(rules: AnalyticsRules) -> tuple[str, ...]:
    """Every flag key the profile's rules can produce, in the order flags are listed."""
    return (
        PERSISTENT,
        SEVERE,
        BELOW_95,
        NEGLECT,
        THRESHOLD,
        LATE,
        *(continuous_key(n) for n in sorted(rules.continuous_absence_days)),
        illness_key(rules.illness_days),
        TREND,
    )


def flag_titles(rules: AnalyticsRules | None = None) -> dict[str, str]:
    """Each flag key's title, for pages (the national profile's numbers unless ``rules``)."""
    if rules is None:
        from config.profiles import load_profile

        rules = load_profile("national").analytics
    titles = {
        PERSISTENT: "Persistent absence",
        SEVERE: "Severe absence",
        BELOW_95: f"Attendance below {_number(rules.concern_below_percent)}%",
        NEGLECT: (
            f"Attendance {_number(rules.neglect_at_or_below_percent)}% or below "
            "(educational neglect indicator)"
        ),
        THRESHOLD: "Penalty notice threshold met",
        LATE: "Late after the register closed",
        illness_key(rules.illness_days): f"{_number(rules.illness_days)} days of illness",
        TREND: "Attendance falling",
    }
    for n in rules.continuous_absence_days:
        titles[continuous_key(n)] = f"{n} school days of continuous unauthorised absence"
    return {key: titles[key] for key in flag_keys(rules)}


# --- classifying marks ------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkKind:
    """How one mark counts for the flags."""

    possible: bool
    attended: bool
    absent: bool
    unauthorised: bool
    counted: bool  # toward the penalty-notice threshold (profile's counted codes)
    late_u: bool  # U: arrived after the register closed
    illness: bool  # I


@lru_cache(maxsize=64)
def counted_set(counted_codes: tuple[str, ...]) -> frozenset[str]:
    """The profile's counted codes, checked: only 2024 unauthorised codes may count (RULES.md
    §2.1); InvalidInput on field ``counted_codes`` otherwise."""
    found = set()
    for raw in counted_codes:
        code = raw.strip().upper() if isinstance(raw, str) else raw
        entry = CODES.get(code) if isinstance(code, str) else None
        if entry is None or entry.stat_class is not StatClass.UNAUTHORISED_ABSENCE:
            raise InvalidInput.one(
                "counted_codes",
                raw,
                f"{raw!r} cannot count toward the threshold: only 2024 unauthorised-absence "
                "codes can (RULES.md §2.1)",
            )
        found.add(code)
    return frozenset(found)


@lru_cache(maxsize=1024)
def _kind(code: str, from_2024: bool, counted: frozenset[str]) -> MarkKind:
    entry = code_class(code, date(2024, 8, 19) if from_2024 else date(2024, 8, 18))
    stat = entry.stat_class
    unauthorised = stat is StatClass.UNAUTHORISED_ABSENCE
    current = entry.legacy_code is None
    return MarkKind(
        possible=stat is not StatClass.NOT_POSSIBLE,
        attended=stat in (StatClass.PRESENT, StatClass.APPROVED_EDUCATIONAL_ACTIVITY),
        absent=stat in (StatClass.AUTHORISED_ABSENCE, StatClass.UNAUTHORISED_ABSENCE),
        unauthorised=unauthorised,
        counted=unauthorised and current and entry.code in counted,
        late_u=unauthorised and current and entry.code == "U",
        illness=current and entry.code == "I",
    )


def mark_kind(mark: SessionMark, rules: AnalyticsRules) -> MarkKind:
    return _kind(mark.code, mark.day >= date(2024, 8, 19), counted_set(tuple(rules.counted_codes)))


# --- helpers ----------------------------------------------------------------------------------


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _fraction(value: float) -> Fraction:
    """A profile number read as written (5, 92.5), so comparisons are exact."""
    return Fraction(str(value))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def at_least_percent(part: int, whole: int, percent: float) -> bool:
    """``part / whole * 100 >= percent``, exactly (``whole`` > 0)."""
    p = _fraction(percent)
    return part * 100 * p.denominator >= p.numerator * whole


def below_percent(part: int, whole: int, percent: float) -> bool:
    """``part / whole * 100 < percent``, exactly (``whole`` > 0)."""
    return not at_least_percent(part, whole, percent)


def _as_marks(marks: Timeline | Iterable[object]) -> tuple[SessionMark, ...]:
    """SessionMarks from a timeline, SessionMarks, ``(date, session, code)`` tuples, or objects
    with ``day``, ``session`` and ``code`` (an officer's listed sessions), in order."""
    if isinstance(marks, Timeline):
        return marks.sessions
    found = []
    for item in marks:
        if isinstance(item, SessionMark):
            found.append(item)
        elif isinstance(item, tuple):
            day, session, code = item
            found.append(SessionMark(day, session, code, 0, ""))
        else:
            found.append(SessionMark(item.day, item.session, item.code, 0, ""))
    return timeline_of(0, found).sessions


# --- rolling windows of school weeks ----------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A run of consecutive school weeks and the sessions in it that count."""

    weeks: tuple[date, ...]  # the Mondays, oldest first
    sessions: tuple[SessionMark, ...]  # the counted sessions, in order
    first_day: date  # the first marked day in the window (its first Monday if none)
    last_day: date  # the last marked day in the window, up to as_at

    @property
    def count(self) -> int:
        return len(self.sessions)

    @property
    def school_weeks(self) -> int:
        return len(self.weeks)

    def describe(self) -> str:
        return (
            f"the {self.school_weeks} school week{'s' if self.school_weeks != 1 else ''} from "
            f"{long_date(self.first_day)} to {long_date(self.last_day)}"
        )


def rolling_windows(
    marks: Timeline | Iterable[object],
    *,
    size: int,
    counts: Callable[[SessionMark], bool],
    as_at: date,
    start: date | None = None,
    school_weeks: Iterable[date] | None = None,
) -> list[Window]:
    """Every window of ``size`` school weeks ending at a school week from ``start``'s week to
    ``as_at``, oldest first, with the sessions ``counts`` picks.

    School weeks are the weeks of the marks (up to ``as_at``), plus ``school_weeks`` (any day of
    each; a calendar's school weeks) when the marks alone do not show every school week, such
    as an officer's list of unauthorised sessions.
    """
    if size < 1:
        raise ValueError("a window has at least one school week")
    upto = [m for m in _as_marks(marks) if m.day <= as_at]
    by_week: dict[date, list[SessionMark]] = defaultdict(list)
    for mark in upto:
        by_week[monday(mark.day)].append(mark)
    weeks = set(by_week)
    if school_weeks is not None:
        weeks |= {monday(d) for d in school_weeks if d <= as_at}
    ordered = sorted(weeks)
    first_week = monday(start) if start is not None else date.min
    windows = []
    for j, week in enumerate(ordered):
        if week < first_week:
            continue
        span = ordered[max(0, j - size + 1) : j + 1]
        inside = [m for w in span for m in by_week.get(w, ())]
        windows.append(
            Window(
                weeks=tuple(span),
                sessions=tuple(m for m in inside if counts(m)),
                first_day=inside[0].day if inside else span[0],
                last_day=inside[-1].day if inside else span[-1],
            )
        )
    return windows


def best_window(windows: Sequence[Window]) -> Window | None:
    """The window with the most counted sessions; the latest one on a tie."""
    best = None
    for window in windows:
        if best is None or window.count >= best.count:
            best = window
    return best


def threshold_windows(
    marks: Timeline | Iterable[object],
    rules: AnalyticsRules,
    *,
    as_at: date,
    start: date | None = None,
    school_weeks: Iterable[date] | None = None,
) -> list[Window]:
    """The penalty-notice threshold's windows (``threshold_school_weeks`` school weeks, counting
    the profile's ``counted_codes``), oldest first; see :func:`rolling_windows`.

    For the Notice to Improve guard: pass the officer's listed sessions with the school
    calendar's school weeks, or the pupil's timeline; ``best_threshold_window`` picks one.
    """
    return rolling_windows(
        marks,
        size=rules.threshold_school_weeks,
        counts=lambda m: mark_kind(m, rules).counted,
        as_at=as_at,
        start=start,
        school_weeks=school_weeks,
    )


def best_threshold_window(
    marks: Timeline | Iterable[object],
    rules: AnalyticsRules,
    *,
    as_at: date,
    start: date | None = None,
    school_weeks: Iterable[date] | None = None,
) -> Window | None:
    """The threshold window with the most counted sessions (the latest on a tie), or None.
    The threshold is met when its ``count >= rules.threshold_sessions``."""
    return best_window(
        threshold_windows(marks, rules, as_at=as_at, start=start, school_weeks=school_weeks)
    )


# --- continuous absence -----------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """Consecutive school days of unauthorised absence in every possible session."""

    days: tuple[date, ...]
    sessions: tuple[SessionMark, ...]  # the unauthorised sessions of those days

    @property
    def length(self) -> int:
        return len(self.days)


def absence_runs(
    marks: Timeline | Iterable[object], rules: AnalyticsRules, *, as_at: date
) -> list[Run]:
    """Every run of continuous unauthorised absence up to ``as_at``, oldest first (see the
    module notes: days with no possible session are skipped, not breaks)."""
    by_day: dict[date, list[SessionMark]] = defaultdict(list)
    for mark in _as_marks(marks):
        if mark.day <= as_at:
            by_day[mark.day].append(mark)
    runs: list[Run] = []
    days: list[date] = []
    sessions: list[SessionMark] = []
    for day in sorted(by_day):
        possible = [m for m in by_day[day] if mark_kind(m, rules).possible]
        if not possible:
            continue
        if all(mark_kind(m, rules).unauthorised for m in possible):
            days.append(day)
            sessions.extend(possible)
            continue
        if days:
            runs.append(Run(tuple(days), tuple(sessions)))
        days, sessions = [], []
    if days:
        runs.append(Run(tuple(days), tuple(sessions)))
    return runs


# --- trend ------------------------------------------------------------------------------------


def _pupil_weeks(marks: Sequence[SessionMark], as_at: date) -> list[list[SessionMark]]:
    by_week: dict[date, list[SessionMark]] = defaultdict(list)
    for mark in marks:
        if mark.day <= as_at:
            by_week[monday(mark.day)].append(mark)
    return [by_week[w] for w in sorted(by_week)]


def _attendance(marks: Iterable[SessionMark]) -> tuple[int, int]:
    found = totals(marks)
    return found.attended, found.possible


def trend(
    timeline: Timeline | Iterable[object], as_at: date, weeks: int
) -> tuple[float | None, float | None]:
    """Attendance % in the pupil's last ``weeks`` school weeks up to ``as_at``, and in the
    ``weeks`` before them: ``(last, before)``. None where there are not enough school weeks or
    no possible sessions."""
    last, before = _trend_counts(_pupil_weeks(_as_marks(timeline), as_at), weeks)
    return _pct(last), _pct(before)


def _trend_counts(
    weeks: list[list[SessionMark]], n: int
) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    if len(weeks) < n:
        return None, None
    last = _attendance(m for w in weeks[-n:] for m in w)
    if len(weeks) < 2 * n:
        return last, None
    before = _attendance(m for w in weeks[-2 * n : -n] for m in w)
    return last, before


def _pct(counts: tuple[int, int] | None) -> float | None:
    if counts is None or counts[1] == 0:
        return None
    return counts[0] / counts[1] * 100


def dropped(before: tuple[int, int], last: tuple[int, int], points: float) -> bool:
    """Attendance fell from ``before`` to ``last`` (attended, possible) by ``points`` percentage
    points or more, exactly; False when either has no possible sessions."""
    (a_b, p_b), (a_l, p_l) = before, last
    if p_b == 0 or p_l == 0:
        return False
    d = _fraction(points)
    return 100 * (a_b * p_l - a_l * p_b) * d.denominator >= d.numerator * p_b * p_l


# --- the flags --------------------------------------------------------------------------------


def pupil_flags(
    timeline: Timeline, *, start: date, as_at: date, rules: AnalyticsRules
) -> list[Flag]:
    """The flags the pupil meets on ``as_at`` (see the module notes), in :func:`flag_keys`
    order. ``start`` is the range start (usually the academic year's first day); the timeline
    may begin earlier so rolling windows and runs can look back across a year or a school."""
    titles = flag_titles(rules)
    marks = [m for m in timeline.sessions if m.day <= as_at]
    in_range = [m for m in marks if m.day >= start]
    flags: list[Flag] = []
    flags += _rate_flags(in_range, start, as_at, rules, titles)
    flags += _window_flags(marks, start, as_at, rules, titles)
    flags += _run_flags(marks, start, as_at, rules, titles)
    flags += _illness_flag(in_range, as_at, rules, titles)
    flags += _trend_flag(marks, start, as_at, rules, titles)
    return flags


def _figures(**values: Figure) -> Mapping[str, Figure]:
    return MappingProxyType(values)


def _rate_flags(in_range, start, as_at, rules, titles) -> list[Flag]:
    counted = totals(in_range)
    if counted.possible == 0:
        return []
    absences = tuple(m for m in in_range if mark_kind(m, rules).absent)
    first = in_range[0].day
    period = f"from {long_date(first)} to {long_date(as_at)}"
    attendance = percent_text(counted.attendance_percent)
    absence = percent_text(counted.absence_percent)
    figures = dict(
        possible=counted.possible,
        attended=counted.attended,
        absent=counted.absent,
        authorised=counted.authorised,
        unauthorised=counted.unauthorised,
        attendance_percent=counted.attendance_percent,
        absence_percent=counted.absence_percent,
        first_day=first.isoformat(),
        as_at=as_at.isoformat(),
    )
    missed = f"Absent for {counted.absent} of {counted.possible} possible sessions ({absence})"
    attended = f"Attended {counted.attended} of {counted.possible} possible sessions ({attendance})"
    tests = [
        (
            PERSISTENT,
            at_least_percent(counted.absent, counted.possible, rules.persistent_percent),
            f"{missed} {period}; persistent absence is "
            f"{_number(rules.persistent_percent)}% or more",
            {"threshold_percent": rules.persistent_percent},
        ),
        (
            SEVERE,
            at_least_percent(counted.absent, counted.possible, rules.severe_percent),
            f"{missed} {period}; severe absence is {_number(rules.severe_percent)}% or more",
            {"threshold_percent": rules.severe_percent},
        ),
        (
            BELOW_95,
            below_percent(counted.attended, counted.possible, rules.concern_below_percent),
            f"{attended} {period}; below {_number(rules.concern_below_percent)}% is a concern "
            "to monitor",
            {"threshold_percent": rules.concern_below_percent},
        ),
        (
            NEGLECT,
            not _above(counted.attended, counted.possible, rules.neglect_at_or_below_percent),
            f"{attended} {period}; {_number(rules.neglect_at_or_below_percent)}% or below is "
            "an indicator of educational neglect",
            {"threshold_percent": rules.neglect_at_or_below_percent},
        ),
    ]
    return [
        Flag(key, titles[key], text, absences, _figures(**figures, **extra))
        for key, met, text, extra in tests
        if met
    ]


def _above(part: int, whole: int, percent: float) -> bool:
    """``part / whole * 100 > percent``, exactly."""
    p = _fraction(percent)
    return part * 100 * p.denominator > p.numerator * whole


def _window_flags(marks, start, as_at, rules, titles) -> list[Flag]:
    flags = []
    codes = ", ".join(sorted(counted_set(tuple(rules.counted_codes))))
    window = best_threshold_window(marks, rules, as_at=as_at, start=start)
    if window is not None and window.count >= rules.threshold_sessions:
        flags.append(
            Flag(
                THRESHOLD,
                titles[THRESHOLD],
                f"{window.count} unauthorised sessions ({codes}) in {window.describe()}; "
                f"the threshold is {rules.threshold_sessions}",
                window.sessions,
                _window_figures(window, rules.threshold_sessions, rules.threshold_school_weeks),
            )
        )
    late = best_window(
        rolling_windows(
            marks,
            size=rules.late_u_school_weeks,
            counts=lambda m: mark_kind(m, rules).late_u,
            as_at=as_at,
            start=start,
        )
    )
    if late is not None and late.count >= rules.late_u_marks:
        flags.append(
            Flag(
                LATE,
                titles[LATE],
                f"{late.count} late marks after the register closed (U) in {late.describe()}; "
                f"the limit is {rules.late_u_marks}",
                late.sessions,
                _window_figures(late, rules.late_u_marks, rules.late_u_school_weeks),
            )
        )
    return flags


def _window_figures(window: Window, threshold: int, weeks: int) -> Mapping[str, Figure]:
    return _figures(
        count=window.count,
        threshold=threshold,
        window_school_weeks=weeks,
        school_weeks=window.school_weeks,
        first_week=window.weeks[0].isoformat(),
        last_week=window.weeks[-1].isoformat(),
        first_day=window.first_day.isoformat(),
        last_day=window.last_day.isoformat(),
    )


# What the national numbers mean (RULES.md §3.2-3.3); other numbers are an LA's own.
_RUN_RULES = {
    10: "when the school must tell the LA (reg 12 return)",
    20: (
        "a ground for deleting the pupil from the admission register after joint reasonable "
        "enquiries (reg 9(1)(i))"
    ),
}


def _run_flags(marks, start, as_at, rules, titles) -> list[Flag]:
    runs = [r for r in absence_runs(marks, rules, as_at=as_at) if r.days[-1] >= start]
    flags = []
    for n in sorted(rules.continuous_absence_days):
        reaching = [r for r in runs if r.length >= n]
        if not reaching:
            continue
        run = reaching[-1]
        why = _RUN_RULES.get(n, "the point the LA's profile flags")
        key = continuous_key(n)
        flags.append(
            Flag(
                key,
                titles[key],
                f"Unauthorised absence in every session of {run.length} consecutive school days, "
                f"{long_date(run.days[0])} to {long_date(run.days[-1])}; {n} school days is "
                f"{why}",
                run.sessions,
                _figures(
                    days=run.length,
                    threshold_days=n,
                    sessions=len(run.sessions),
                    first_day=run.days[0].isoformat(),
                    last_day=run.days[-1].isoformat(),
                ),
            )
        )
    return flags


def _illness_flag(in_range, as_at, rules, titles) -> list[Flag]:
    ill = tuple(m for m in in_range if mark_kind(m, rules).illness)
    need = _fraction(rules.illness_days)
    # sessions / 2 >= days, exactly
    if not ill or len(ill) * need.denominator < 2 * need.numerator:
        return []
    key = illness_key(rules.illness_days)
    days = len(ill) / 2
    return [
        Flag(
            key,
            titles[key],
            f"Illness (I) on {len(ill)} sessions, {_number(days)} school days, between "
            f"{long_date(ill[0].day)} and {long_date(ill[-1].day)}; the LA is told at "
            f"{_number(rules.illness_days)} days, consecutive or cumulative, so that alternative "
            "provision can be considered",
            ill,
            _figures(
                sessions=len(ill),
                days=days,
                threshold_days=rules.illness_days,
                first_day=ill[0].day.isoformat(),
                last_day=ill[-1].day.isoformat(),
                as_at=as_at.isoformat(),
            ),
        )
    ]


def _trend_flag(marks, start, as_at, rules, titles) -> list[Flag]:
    weeks = _pupil_weeks(marks, as_at)
    if not weeks or monday(weeks[-1][0].day) < monday(start):
        return []
    figures: dict[str, Figure] = {}
    met: list[int] = []
    parts = []
    for n in sorted(rules.trend_school_weeks):
        last, before = _trend_counts(weeks, n)
        figures[f"last_{n}_weeks_percent"] = _pct(last)
        figures[f"previous_{n}_weeks_percent"] = _pct(before)
        compared = last is not None and before is not None
        if compared and dropped(before, last, rules.trend_drop_points):
            met.append(n)
            parts.append(
                f"from {percent_text(_pct(before))} in the {n} school weeks before to "
                f"{percent_text(_pct(last))} in the last {n}"
            )
    if not met:
        return []
    widest = max(met)
    sessions = tuple(m for w in weeks[-widest:] for m in w if mark_kind(m, rules).absent)
    figures["drop_points"] = rules.trend_drop_points
    figures["as_at"] = as_at.isoformat()
    return [
        Flag(
            TREND,
            titles[TREND],
            f"Attendance fell {'; and '.join(parts)} (school weeks to {long_date(as_at)}); a "
            f"fall of {_number(rules.trend_drop_points)} percentage points or more is flagged",
            sessions,
            _figures(**figures),
        )
    ]


# --- what the flags ask of casework -----------------------------------------------------------


def proposed_stage(flags: Iterable[Flag], rules: AnalyticsRules) -> tuple[str, list[Flag]] | None:
    """For a pupil without an open case: the stage a new case is proposed at (the furthest any
    met flag proposes, per the profile's ``propose``), with the flags proposing it; or None."""
    proposing = [(rules.propose.get(f.key) or "", f) for f in flags]
    proposing = [(stage, f) for stage, f in proposing if stage]
    if not proposing:
        return None
    order = {s.value: i for i, s in enumerate(OPEN_STAGES)}
    stage = max((s for s, _ in proposing), key=lambda s: order.get(s, -1))
    return stage, [f for s, f in proposing if s == stage]


def decision_flags(flags: Iterable[Flag], rules: AnalyticsRules) -> list[Flag]:
    """For an open case: the met flags that raise a decision ("a Notice to Improve / penalty
    notice may be considered"), with the deadline of the clock each arms (``flag_raised:<key>``)."""
    return [f for f in flags if f.key in rules.decision_flags]


__all__ = [
    "BELOW_95",
    "LATE",
    "NEGLECT",
    "PERSISTENT",
    "SEVERE",
    "THRESHOLD",
    "TREND",
    "Flag",
    "MarkKind",
    "Run",
    "Window",
    "absence_runs",
    "best_threshold_window",
    "best_window",
    "continuous_key",
    "decision_flags",
    "flag_keys",
    "flag_titles",
    "illness_key",
    "mark_kind",
    "proposed_stage",
    "pupil_flags",
    "rolling_windows",
    "threshold_windows",
    "trend",
]
