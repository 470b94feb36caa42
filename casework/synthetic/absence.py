"""Synthetic registers calibrated to the DfE's 2023/24 absence statistics (numpy, vectorised).

:func:`generate_marks` gives each pupil a stored register string (one character per session of a
:class:`~casework.registers.marks.SessionIndex`; ``-`` after ``as_at``) whose overall, authorised
and unauthorised absence, persistent absence (>= 10 % of possible sessions) and severe absence
(>= 50 %) match :data:`NATIONAL_2023_24`.

Calibration by construction, not luck:

1. **Rates.** Each pupil's absence rate is a stratified draw from the quantile function of a
   two-component Beta mixture (:data:`MIXTURE_2023_24`, fitted to the published mean, PA and
   severe rates): with ``n`` pupils, the ``i``-th smallest rate is ``F^-1((i + u_i) / n)``. So for
   any ``n`` the share of pupils at or above 10 % and 50 % is the target to within ``1/n``, and
   the mean is the target to within sampling noise of one stratum. Which pupil gets which rate is
   decided by ranking a risk score (noise plus shifts for phase, FSM, SEN, EHC plan and so on,
   :data:`RISK`), so those pupils are absent more while the overall distribution stays exact.
2. **Counts.** A pupil misses exactly ``round(rate x possible)`` sessions (not a binomial draw),
   nudged by at most one session so it lands on the same side of the 10 % and 50 % lines as the
   rate. PA and severe absence on the generated strings are therefore the stratified shares.
3. **Codes and timing.** Unauthorised holidays (``G``) are blocks of 3-5 school days next to a
   half-term or a term end; the remaining absence is split into whole-day spells (illness ``I``,
   unauthorised other ``O``, exceptional leave ``C``, suspension ``E``, not yet known ``N``) placed
   by Gumbel-top-k on smoothed noise plus a seasonal day weight (illness rises at the end of the
   autumn term and in January), and single sessions (medical ``M``, late after the register closed
   ``U``). Shares are scaled over the whole call so the code mix meets the targets; chronic
   absentees lean to unauthorised absence. Present sessions are ``/`` and ``\\``, with a few
   ``L`` (late), trips ``V``, sport ``P``, other approved activity ``B``, LA provision ``K`` and
   Year 10 work experience ``W``. No code that removes a possible session is generated.

Everything is deterministic for a given ``seed``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import numpy as np

from casework.registers.codes import ATTENDANCE_CLASSES, StatClass, classify
from casework.registers.marks import CHAR_TO_CODE, CODE_TO_CHAR, NO_MARK, SessionIndex

# --- published targets ------------------------------------------------------------------------


@dataclass(frozen=True)
class AbsenceTargets:
    """Published absence figures, as fractions of possible sessions (pupils for PA/severe)."""

    name: str
    source: str
    overall: float
    authorised: float
    unauthorised: float
    persistent: float  # share of pupils missing >= 10 % of their possible sessions
    severe: float  # share of pupils missing >= 50 %
    # By reason, as shares of possible sessions.
    illness: float
    unauthorised_other: float
    unauthorised_holiday: float
    authorised_other: float
    # By phase and by term (overall absence rate).
    primary: float
    secondary: float
    special: float
    autumn: float
    spring: float
    summer: float


# DATA-FORMATS.md §5.1 (full year 2023/24, state-funded primary, secondary and special schools).
NATIONAL_2023_24 = AbsenceTargets(
    name="England 2023/24",
    source=(
        "https://explore-education-statistics.service.gov.uk/find-statistics/"
        "pupil-absence-in-schools-in-england/2023-24"
    ),
    overall=0.071,
    authorised=0.047,
    unauthorised=0.025,
    persistent=0.200,
    severe=0.023,
    illness=0.035,
    unauthorised_other=0.017,
    unauthorised_holiday=0.005,
    authorised_other=0.005,
    primary=0.055,
    secondary=0.089,
    special=0.130,
    autumn=0.067,
    spring=0.072,
    summer=0.076,
)


def code_shares(targets: AbsenceTargets = NATIONAL_2023_24) -> dict[str, float]:
    """Each generated absence code's share of all absence (sums to 1).

    Published: illness (I), unauthorised other (O), unauthorised holiday (G) and "authorised
    other" (here C). The rest of authorised absence (4.7 - 3.5 - 0.5 = 0.7 points) is split 80/20
    between medical appointments (M) and suspensions (E), and the rest of unauthorised absence
    (2.5 - 1.7 - 0.5 = 0.3 points) evenly between N and U: these splits are assumptions, not
    published figures. The published parts add up to 7.2 points against an overall 7.1 (rounding),
    so the shares are normalised.
    """
    auth_rest = max(0.0, targets.authorised - targets.illness - targets.authorised_other)
    unauth_rest = max(
        0.0, targets.unauthorised - targets.unauthorised_other - targets.unauthorised_holiday
    )
    points = {
        "I": targets.illness,
        "M": 0.8 * auth_rest,
        "C": targets.authorised_other,
        "E": 0.2 * auth_rest,
        "O": targets.unauthorised_other,
        "G": targets.unauthorised_holiday,
        "N": 0.5 * unauth_rest,
        "U": 0.5 * unauth_rest,
    }
    total = sum(points.values())
    return {code: value / total for code, value in points.items()}


# --- the rate distribution --------------------------------------------------------------------


@dataclass(frozen=True)
class Mixture:
    """Pupils' annual absence rates: ``w`` x Beta(chronic) + (1 - ``w``) x Beta(main)."""

    chronic_weight: float
    chronic: tuple[float, float]
    main: tuple[float, float]

    def mean(self) -> float:
        (a1, b1), (a2, b2) = self.chronic, self.main
        w = self.chronic_weight
        return w * a1 / (a1 + b1) + (1 - w) * a2 / (a2 + b2)

    def tail(self, threshold: float) -> float:
        """P(rate >= threshold), by numerical integration."""
        w = self.chronic_weight
        return w * _beta_tail(*self.chronic, threshold) + (1 - w) * _beta_tail(
            *self.main, threshold
        )


def _beta_log_pdf(a: float, b: float, x: np.ndarray) -> np.ndarray:
    log_b = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - log_b


def _beta_tail(a: float, b: float, t: float, points: int = 8001) -> float:
    """P(X >= t) for X ~ Beta(a, b), 0 < t < 1: trapezoid rule after x = t + (1 - t)(1 -
    (1 - v)^2), which smooths the (1 - x)^(b - 1) end point for b > 1/2."""
    v = np.linspace(0.0, 1.0, points)
    x = t + (1 - t) * (1 - (1 - v) ** 2)
    dx = 2 * (1 - t) * (1 - v)
    f = np.exp(_beta_log_pdf(a, b, x)) * dx
    f[~np.isfinite(f)] = 0.0
    return float(np.sum((f[1:] + f[:-1]) * np.diff(v)) / 2)


CHRONIC_SHAPE = (2.0, 1.5)  # DATA-FORMATS.md §5.4's chronic component, kept as suggested

# Fitted with :func:`fit_mixture` (Newton's method on the chronic weight and the main component's
# two shape parameters, the chronic component held at Beta(2, 1.5), tails integrated as in
# :func:`_beta_tail`) to NATIONAL_2023_24's mean 7.1 %, P(>= 10 %) 20.0 % and P(>= 50 %) 2.3 %:
#
#     >>> fit_mixture(0.071, 0.200, 0.023)
#     Mixture(chronic_weight=0.0366589..., chronic=(2.0, 1.5), main=(0.530208..., 9.67459...))
#
# Resulting moments: mean 0.07100, P(>= 0.10) 0.20000, P(>= 0.50) 0.02300 (tests recompute them
# by sampling). Rounded to whole sessions over 380 sessions, about 10.6 % of pupils miss none
# (DATA-FORMATS.md §5.3: not published) and the median pupil misses 2.9 %; 99 % of severe
# absentees come from the chronic component.
MIXTURE_2023_24 = Mixture(
    chronic_weight=0.03665892,
    chronic=CHRONIC_SHAPE,
    main=(0.53020829, 9.67459836),
)


def fit_mixture(
    overall: float, persistent: float, severe: float, chronic: tuple[float, float] = CHRONIC_SHAPE
) -> Mixture:
    """The mixture (chronic shape fixed) with the given mean, P(>= 10 %) and P(>= 50 %)."""
    target = np.array([overall, persistent, severe])

    def moments(x: np.ndarray) -> np.ndarray:
        m = Mixture(float(x[0]), chronic, (float(x[1]), float(x[2])))
        return np.array([m.mean(), m.tail(0.1), m.tail(0.5)])

    x = np.array([severe / 0.6, 0.6, 10.0])
    for _ in range(60):
        f = moments(x) - target
        if np.abs(f).max() < 1e-12:
            break
        jac = np.empty((3, 3))
        for j in range(3):
            step = np.zeros(3)
            step[j] = 1e-7 * max(1.0, abs(x[j]))
            jac[:, j] = (moments(x + step) - target - f) / step[j]
        x = x - np.linalg.solve(jac, f)
        x = np.clip(x, [1e-6, 0.3, 0.5], [0.5, 50.0, 500.0])
    else:  # pragma: no cover
        raise ValueError("the mixture fit did not converge")
    return Mixture(float(x[0]), chronic, (float(x[1]), float(x[2])))


def mixture_for(targets: AbsenceTargets) -> Mixture:
    if targets == NATIONAL_2023_24:
        return MIXTURE_2023_24
    return _fitted(targets.overall, targets.persistent, targets.severe)


@cache
def _fitted(overall: float, persistent: float, severe: float) -> Mixture:
    return fit_mixture(overall, persistent, severe)


@cache
def _quantile_table(mixture: Mixture, points: int = 100_001) -> tuple[np.ndarray, np.ndarray]:
    """(cdf, x) on a grid dense near 0 (x = s^4) where the main component's density is steep."""
    s = np.linspace(0.0, 1.0, points)
    x = s**4
    dxds = 4 * s**3
    w = mixture.chronic_weight
    with np.errstate(invalid="ignore", over="ignore"):
        f = (
            w * np.exp(_beta_log_pdf(*mixture.chronic, x))
            + (1 - w) * np.exp(_beta_log_pdf(*mixture.main, x))
        ) * dxds
    f[~np.isfinite(f)] = 0.0
    cdf = np.concatenate([[0.0], np.cumsum((f[1:] + f[:-1]) * np.diff(s) / 2)])
    cdf /= cdf[-1]
    keep = np.concatenate([[True], np.diff(cdf) > 0])  # np.interp needs increasing x-points
    return cdf[keep], x[keep]


def quantile(mixture: Mixture, u: np.ndarray) -> np.ndarray:
    """The mixture's quantile function at ``u`` (0..1)."""
    cdf, x = _quantile_table(mixture)
    return np.interp(u, cdf, x)


# --- who gets which rate ----------------------------------------------------------------------

# Risk-score shifts (the score is standard normal noise plus these). Fitted offline by simulating
# a national mix of pupils (57.5 % primary, 40.5 % secondary, 2 % special; characteristics at the
# prevalences in casework.synthetic.population) and solving for the five fitted shifts by
# least squares against 2023/24 figures: phase rates 5.5 / 8.9 / 13.0 % (DATA-FORMATS.md §5.1) and
# the autumn-term ratios FSM 10.4 vs 5.5 %, SEN support 10.3 and EHC plan 12.4 vs no SEN 6.1 %
# (§5.2). The small fixed shifts (social worker, looked after, EAL, young carer, Year 7-11
# gradient) are judgement, not fitted. Result on that mix: primary 5.6 %, secondary 9.0 %,
# special 13.0 % (the published phase rates average 6.8 % on this mix, so they cannot all be met
# with an overall 7.1 %), FSM/non-FSM 1.90, SEN support/no SEN 1.69, EHCP/no SEN 2.03; PA for
# FSM 31.8 % vs 16.3 % (published 33.0 / 15.6) and EHCP 36.1 % (34.6).
RISK = {
    "secondary": 0.29,
    "special": 0.15,
    "fsm": 0.53,
    "sen_support": 0.44,
    "ehc_plan": 0.56,
    "social_worker": 0.5,
    "looked_after": -0.4,  # on top of social_worker: looked-after children attend better than CIN
    "eal": -0.1,
    "young_carer": 0.3,
    "per_year_above_7": 0.05,
}

_THRESHOLDS = ((1, 10), (1, 2))  # persistent (10 %) and severe (50 %) absence, exactly


def _attr(pupils: Sequence[Any], name: str, default: Any) -> np.ndarray:
    return np.array([getattr(p, name, default) for p in pupils])


def risk_scores(pupils: Sequence[Any]) -> np.ndarray:
    """The deterministic part of each pupil's risk score (see :data:`RISK`)."""
    n = len(pupils)
    if n == 0:
        return np.zeros(0)
    phase = _attr(pupils, "phase", "primary")
    nc_year = _attr(pupils, "nc_year", 0).astype(float)
    score = RISK["secondary"] * (phase == "secondary") + RISK["special"] * (phase == "special")
    score = score + RISK["per_year_above_7"] * np.clip(nc_year - 7, 0, 4) * (phase == "secondary")
    for name in ("fsm", "sen_support", "ehc_plan", "social_worker", "looked_after", "eal"):
        score = score + RISK[name] * _attr(pupils, name, False).astype(bool)
    score = score + RISK["young_carer"] * _attr(pupils, "young_carer", False).astype(bool)
    return score


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed % 2**63, *stream]))


def absence_rates(
    pupils: Sequence[Any], *, seed: int, targets: AbsenceTargets = NATIONAL_2023_24
) -> np.ndarray:
    """Each pupil's annual absence rate: stratified quantiles of the fitted mixture, handed out
    by risk score. Draw them over a whole county at once (and pass them to
    :func:`generate_marks` school by school) for the county to be calibrated as a whole."""
    n = len(pupils)
    rng = _rng(seed, 1)
    stratified = quantile(mixture_for(targets), (np.arange(n) + rng.random(n)) / max(n, 1))
    score = rng.standard_normal(n) + risk_scores(pupils)
    rates = np.empty(n)
    rates[np.argsort(score, kind="stable")] = stratified  # already ascending
    return rates


def absent_sessions(rates: np.ndarray, possible: int) -> np.ndarray:
    """Sessions missed: ``round(rate x possible)``, moved by at most one session so that
    ``missed / possible`` is on the same side of 10 % and 50 % as the rate (with fewer than
    three possible sessions one session is both 10 % and 50 %, and the 50 % line wins)."""
    k = np.clip(np.rint(np.asarray(rates) * possible), 0, possible).astype(np.int64)
    for num, den in _THRESHOLDS:
        need = -(-num * possible // den)  # the fewest sessions that reach the threshold
        above = np.asarray(rates) >= num / den
        k = np.where(above, np.maximum(k, need), np.minimum(k, need - 1))
    return np.clip(k, 0, possible)


# --- the session layout -----------------------------------------------------------------------

_BREAK_DAYS = 6  # a gap of 6+ calendar days between open days is a holiday (not a weekend)
_TERM_BREAK_DAYS = 13  # ...and of 13+ days a break between terms
_WEEKDAY_WEIGHT = np.array([1.04, 0.97, 0.96, 0.98, 1.07, 1.0, 1.0])  # Mon..Sun, judgement
_HOLIDAY_LENGTHS = np.array([6, 8, 10])  # sessions: 3, 4 or 5 school days


@dataclass(frozen=True)
class _Layout:
    length: int  # sessions in the index
    window: int  # sessions on or before as_at
    day: np.ndarray  # (window,) day number of each session
    days: int  # school days in the window
    year_days: int  # school days in the whole index
    am: np.ndarray  # (window,) bool
    weekday: np.ndarray  # (window,)
    week: np.ndarray  # (window,) school week number of each session (0..weeks-1)
    weeks: int
    day_weight: np.ndarray  # (days,) relative daily absence, seasonal
    # (A, 3) holiday blocks: position, direction (-1 before, +1 after), kind (0 half-term,
    # 1 term end, 2 the start of the year)
    anchors: np.ndarray
    anchor_weight: np.ndarray  # (A,)
    mondays_summer: np.ndarray  # positions of Monday AM sessions in June and July
    recent: np.ndarray  # (window,) bool: the last three school days up to as_at (N more likely)


def _layout(index: SessionIndex, as_at: date | None, targets: AbsenceTargets) -> _Layout:
    sessions = index.sessions
    length = len(sessions)
    window = length if as_at is None else sum(1 for d, _ in sessions if d <= as_at)
    dates = [d for d, _ in sessions]
    ordinals = np.array([d.toordinal() for d in dates], dtype=np.int64)
    uniq, day_of = np.unique(ordinals, return_inverse=True)
    gaps = np.diff(uniq)
    # Position of the first session after each holiday, and whether it was a term break.
    first_of_day = np.searchsorted(ordinals, uniq)
    break_after = np.nonzero(gaps >= _BREAK_DAYS)[0]
    positions = first_of_day[break_after + 1]
    term_break = gaps[break_after] >= _TERM_BREAK_DAYS
    term_of_day = np.zeros(len(uniq), dtype=np.int64)
    for i in break_after[term_break]:
        term_of_day[i + 1 :] += 1
    term_of_day = np.minimum(term_of_day, 2)

    # Seasonal day weight: the term's published rate, illness peaks (last three weeks of the
    # autumn term, January), a quiet first week of the year, and Monday/Friday effects.
    by_term = np.array([targets.autumn, targets.spring, targets.summer]) / targets.overall
    weight = by_term[term_of_day].astype(float)
    day_dates = [date.fromordinal(int(o)) for o in uniq]
    months = np.array([d.month for d in day_dates])
    weekdays = np.array([d.weekday() for d in day_dates])
    autumn_days = np.nonzero(term_of_day == 0)[0]
    weight[autumn_days[-15:]] *= 1.45
    weight[autumn_days[:5]] *= 0.7
    weight[months == 1] *= 1.25
    weight *= _WEEKDAY_WEIGHT[weekdays]

    # Holiday anchors: before and after each break, the year's first and last sessions.
    # Kind 2: the first days of the year (fewer: absence is lowest in the first week).
    anchors = [(0, 1, 2), (length, -1, 1)]
    for pos, big in zip(positions, term_break, strict=True):
        anchors += [(int(pos), -1, int(big)), (int(pos), 1, int(big))]
    longest = int(_HOLIDAY_LENGTHS.max())
    ok = [
        a
        for a in anchors
        if (a[1] < 0 and longest <= a[0] <= window) or (a[1] > 0 and a[0] + longest <= window)
    ]
    anchor_arr = np.array(ok, dtype=np.int64).reshape(-1, 3)
    anchor_weight = np.array([1.0, 1.5, 0.5])[anchor_arr[:, 2]]

    day = day_of[:window]
    # Weeks run Monday to Sunday (ordinal 1, 1 January of year 1, was a Monday).
    _, week = np.unique((ordinals[:window] - 1) // 7, return_inverse=True)
    am = np.array([s == "AM" for _, s in sessions[:window]], dtype=bool)
    sess_weekday = weekdays[day]
    mondays = [
        i
        for i in range(window)
        if am[i] and sess_weekday[i] == 0 and dates[i].month in (6, 7) and i + 10 <= window
    ]
    recent = np.zeros(window, dtype=bool)
    if as_at is not None and window < length and window:
        recent = day >= day[-1] - 2
    return _Layout(
        length=length,
        window=window,
        day=day,
        days=int(day[-1]) + 1 if window else 0,
        year_days=len(uniq),
        am=am,
        weekday=sess_weekday,
        week=week,
        weeks=int(week.max()) + 1 if window else 0,
        day_weight=weight[: (int(day[-1]) + 1 if window else 0)],
        anchors=anchor_arr,
        anchor_weight=anchor_weight,
        mondays_summer=np.array(mondays, dtype=np.int64),
        recent=recent,
    )


# --- per-pupil plan ---------------------------------------------------------------------------

_B_CODES = ("I", "O", "C", "E", "N")  # whole-day spells
_PRESENT_AM, _PRESENT_PM = ord(CODE_TO_CHAR["/"]), ord(CODE_TO_CHAR["\\"])
_CH = {c: ord(CODE_TO_CHAR[c]) for c in ("G", "M", "U", "N", "L", "V", "P", "B", "K", "W")}
_B_CHARS = np.array([ord(CODE_TO_CHAR[c]) for c in _B_CODES], dtype=np.uint8)
_LATE_PER_AM = {"primary": 0.02, "secondary": 0.045, "special": 0.03}  # FFT Datalab-ish, §3.1
_SPORT_PER_PM = {"primary": 0.002, "secondary": 0.004, "special": 0.003}
_SUSPENSION_WEIGHT = {"primary": 0.4, "secondary": 2.0, "special": 1.5}  # E, relative
_OTHER_APPROVED = 0.0008  # B per session
_TRIP_DAYS = 0.8  # V: school trip days a pupil has a year, on average
_TINY = np.float32(1e-12)
_PENDING = 0.6  # share of spell sessions in the last three days before as_at still marked N


def _by_phase(phase: np.ndarray, values: dict[str, float]) -> np.ndarray:
    """Per pupil, the value for their phase (primary's for anything else)."""
    return np.select(
        [phase == "secondary", phase == "special"],
        [values["secondary"], values["special"]],
        values["primary"],
    ).astype(float)


def _chronic_lean(rates: np.ndarray) -> np.ndarray:
    return 1.0 + 2.0 * np.clip((rates - 0.10) / 0.30, 0.0, 1.0)


@dataclass
class _Plan:
    k: np.ndarray  # sessions absent
    hol_len: np.ndarray  # G block length (0: none)
    hol_lo: np.ndarray  # first session of the G block
    singles: np.ndarray  # M/U single sessions
    spells: np.ndarray  # I/O/C/E/N whole-day sessions
    code_cdf: np.ndarray  # (n, len(_B_CODES)) cumulative label probabilities for spells
    p_u_am: float
    late: np.ndarray  # P(L) per present AM
    sport: np.ndarray  # P(P) per present PM
    la_provision: np.ndarray  # bool: K on two weekdays
    k_days: np.ndarray  # (n, 2) the weekdays
    work_experience: np.ndarray  # position of the W week's Monday AM, -1 none


def _plan(
    layout: _Layout,
    pupils: Sequence[Any],
    rates: np.ndarray,
    targets: AbsenceTargets,
    rng: np.random.Generator,
) -> _Plan:
    n = len(pupils)
    shares = code_shares(targets)
    k = absent_sessions(rates, layout.window)
    total = float(k.sum())
    phase = _attr(pupils, "phase", "primary") if n else np.zeros(0, dtype=str)
    nc_year = _attr(pupils, "nc_year", 0) if n else np.zeros(0, dtype=int)

    # Unauthorised holidays: one block for a share of non-chronic pupils whose count allows it,
    # the share set so G's expected total is its target.
    hol_len = _HOLIDAY_LENGTHS[rng.integers(0, len(_HOLIDAY_LENGTHS), n)]
    eligible = (k >= hol_len + 2) & (rates < 0.30) & (len(layout.anchors) > 0)
    room = float(hol_len[eligible].sum())
    p_hol = min(0.95, shares["G"] * total / room) if room else 0.0
    takes = eligible & (rng.random(n) < p_hol)
    hol_len = np.where(takes, hol_len, 0)
    hol_lo = np.zeros(n, dtype=np.int64)
    if takes.any():
        aw = layout.anchor_weight / layout.anchor_weight.sum()
        pick = layout.anchors[rng.choice(len(aw), size=n, p=aw)]
        hol_lo = np.where(pick[:, 1] < 0, pick[:, 0] - hol_len, pick[:, 0])
    rest = k - hol_len

    # Single sessions (medical appointments, late after the register closed), then spells.
    q = (shares["M"] + shares["U"]) / max(1e-9, 1.0 - shares["G"])
    singles = rng.binomial(rest, min(1.0, q))
    spells = rest - singles

    # Spell labels: per-pupil weights (chronic absentees lean to O; suspensions mostly in
    # secondary), scaled by iterative proportional fitting so the expected total of each code
    # over the call is its target share of the spells.
    lean = _chronic_lean(rates)
    weights = np.ones((n, len(_B_CODES)))
    weights[:, 1] = lean
    weights[:, 3] = _by_phase(phase, _SUSPENSION_WEIGHT) * lean
    target = np.array([shares[c] for c in _B_CODES])
    target = target / target.sum() * float(spells.sum())
    scale = np.ones(len(_B_CODES))
    for _ in range(30):
        probs = weights * scale
        probs /= probs.sum(axis=1, keepdims=True)
        got = spells @ probs
        scale *= np.where(got > 0, target / np.maximum(got, 1e-12), 1.0)
    probs = weights * scale
    probs /= probs.sum(axis=1, keepdims=True)
    code_cdf = np.cumsum(probs, axis=1)
    code_cdf[:, -1] = 1.0
    am_share = float(layout.am.mean()) if layout.window else 0.5
    p_u_am = min(1.0, shares["U"] / (shares["M"] + shares["U"]) / max(am_share, 1e-9))

    # Present-side codes.
    base_late = _by_phase(phase, _LATE_PER_AM)
    propensity = rng.gamma(0.6, 1 / 0.6, n)
    late = np.minimum(0.5, base_late * propensity * (0.6 + 6.0 * rates))
    sport = _by_phase(phase, _SPORT_PER_PM)
    la_provision = (phase == "secondary") & (rates >= 0.15) & (rng.random(n) < 0.04)
    k_days = np.sort(rng.choice(5, size=(n, 2)), axis=1)
    work = -np.ones(n, dtype=np.int64)
    if len(layout.mondays_summer):
        y10 = (phase == "secondary") & (nc_year == 10) & (rng.random(n) < 0.6)
        work = np.where(y10, rng.choice(layout.mondays_summer, size=n), -1)
    return _Plan(
        k, hol_len, hol_lo, singles, spells, code_cdf, p_u_am, late, sport, la_provision,
        k_days, work,
    )  # fmt: skip


# --- one chunk of pupils ----------------------------------------------------------------------

_SMOOTH = 0.6  # neighbouring days' noise weight: makes spells of consecutive days
_PULL = math.sqrt(1 + 2 * _SMOOTH**2)  # smoothing widens the noise; the weight keeps its pull


def _top_k(score: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Per row, a mask of exactly ``k[row]`` highest scores (excluded cells are -inf; ``k``
    never exceeds a row's finite cells). Rows where ties at the threshold select too many are
    redone with a stable argsort, so the count is always exact."""
    out = np.zeros(score.shape, dtype=bool)
    rows = np.nonzero(k > 0)[0]
    if rows.size == 0:
        return out
    sub = score[rows]
    kk = k[rows]
    ordered = np.sort(sub, axis=1)
    threshold = ordered[np.arange(rows.size), score.shape[1] - kk]
    chosen = sub >= threshold[:, None]
    tied = np.nonzero(chosen.sum(axis=1) != kk)[0]
    for r in tied:  # rare: float32 scores that tie at the threshold
        top = np.argsort(-sub[r], kind="stable")[: kk[r]]
        chosen[r] = False
        chosen[r, top] = True
    out[rows] = chosen
    return out


def _chunk(layout: _Layout, plan: _Plan, rows: slice, rng: np.random.Generator) -> np.ndarray:
    """The window's characters (uint8) for one chunk of pupils."""
    k_hol = plan.hol_len[rows]
    m, width = len(k_hol), layout.window
    pos = np.arange(width, dtype=np.int32)
    present_row = np.where(layout.am, _PRESENT_AM, _PRESENT_PM).astype(np.uint8)
    chars = np.repeat(present_row[None, :], m, axis=0)

    # 1. Holiday blocks.
    lo = plan.hol_lo[rows][:, None]
    holiday = (pos >= lo) & (pos < lo + k_hol[:, None])
    np.putmask(chars, holiday, _CH["G"])

    # 2. Whole-day spells: top-k on smoothed Gumbel day noise plus the seasonal log weight; both
    # sessions of a day share the day's score (a small per-session jitter orders them).
    noise = -np.log(-np.log(rng.random((m, layout.days), dtype=np.float32) + _TINY))
    day_score = noise.copy()
    day_score[:, 1:] += _SMOOTH * noise[:, :-1]
    day_score[:, :-1] += _SMOOTH * noise[:, 1:]
    day_score += (_PULL * np.log(layout.day_weight)).astype(np.float32)
    jitter = rng.random((m, width), dtype=np.float32)
    score = np.take(day_score, layout.day, axis=1)
    score += np.float32(1e-3) * jitter
    np.putmask(score, holiday, -np.inf)
    spell = _top_k(score, plan.spells[rows])
    del score, day_score, noise

    # Label spells: one code per pupil per school week, drawn from the pupil's code mix.
    week_u = rng.random((m, layout.weeks))
    cdf = plan.code_cdf[rows]
    week_label = np.zeros((m, layout.weeks), dtype=np.int8)
    for j in range(cdf.shape[1] - 1):
        week_label += week_u >= cdf[:, j : j + 1]
    week_chars = _B_CHARS[week_label]
    if layout.recent.any():  # the last days' reasons are often not known yet
        labelled = np.take(week_chars, layout.week, axis=1)
        pending = np.zeros((m, width), dtype=bool)
        pending[:, layout.recent] = rng.random((m, int(layout.recent.sum()))) < _PENDING
        np.putmask(labelled, pending, _CH["N"])
    else:
        labelled = np.take(week_chars, layout.week, axis=1)
    np.copyto(chars, labelled, where=spell)
    del labelled

    # 3. Single sessions: medical appointments, or late after the register closed (AM only).
    absent = holiday | spell
    score = rng.random((m, width), dtype=np.float32)
    np.putmask(score, absent, -np.inf)
    single = _top_k(score, plan.singles[rows])
    del score
    np.copyto(chars, np.uint8(_CH["M"]), where=single)
    np.putmask(chars, single & layout.am & (jitter < plan.p_u_am), _CH["U"])
    absent |= single

    # 4. Present sessions: late (L), sport (P), other approved activity (B), trips (V), LA
    # provision (K, two weekdays) and Year 10 work experience (W, a week in June or July).
    present = ~absent
    u = rng.random((m, width), dtype=np.float32)
    late = plan.late[rows].astype(np.float32)[:, None]
    sport = plan.sport[rows].astype(np.float32)[:, None]
    np.putmask(chars, present & layout.am & (u < late), _CH["L"])
    np.putmask(chars, present & ~layout.am & (u < sport), _CH["P"])
    np.putmask(chars, present & (u >= np.float32(1 - _OTHER_APPROVED)), _CH["B"])
    trip_day = rng.random((m, layout.days), dtype=np.float32) < _TRIP_DAYS / max(
        layout.year_days, 1
    )
    np.putmask(chars, np.take(trip_day, layout.day, axis=1) & present, _CH["V"])
    provision = np.nonzero(plan.la_provision[rows])[0]
    if provision.size:
        kd = plan.k_days[rows][provision]
        on = (layout.weekday == kd[:, :1]) | (layout.weekday == kd[:, 1:])
        sub = chars[provision]
        np.putmask(sub, on & present[provision], _CH["K"])
        chars[provision] = sub
    work = plan.work_experience[rows]
    placed = np.nonzero(work >= 0)[0]
    if placed.size:
        w = work[placed][:, None]
        week = (pos >= w) & (pos < w + 10) & present[placed]
        sub = chars[placed]
        np.putmask(sub, week, _CH["W"])
        chars[placed] = sub
    return chars


def generate_marks(
    index: SessionIndex,
    pupils: Sequence[Any],
    *,
    seed: int,
    as_at: date | None = None,
    targets: AbsenceTargets = NATIONAL_2023_24,
    rates: np.ndarray | None = None,
    chunk: int = 10_000,
    workers: int | None = None,
) -> list[str]:
    """Each pupil's stored register string on ``index`` (``-`` for sessions after ``as_at``).

    ``pupils`` need only the attributes :func:`risk_scores` reads (missing ones count as
    absent characteristics); ``rates`` (from :func:`absence_rates`) lets a county draw its rates
    once and generate school by school. Absence is calibrated over the sessions up to ``as_at``.
    """
    n = len(pupils)
    layout = _layout(index, as_at, targets)
    if rates is None:
        rates = absence_rates(pupils, seed=seed, targets=targets)
    rates = np.asarray(rates, dtype=float)
    if rates.shape != (n,):
        raise ValueError(f"rates has shape {rates.shape}, expected ({n},)")
    plan = _plan(layout, pupils, rates, targets, _rng(seed, 2))
    tail = NO_MARK * (layout.length - layout.window)
    width = layout.window
    if not width:
        return [tail] * n
    parts = [slice(begin, min(n, begin + chunk)) for begin in range(0, n, chunk)]

    def part(c: int) -> bytes:
        return _chunk(layout, plan, parts[c], _rng(seed, 3, c)).tobytes()

    out: list[str] = []
    # numpy releases the GIL in most of the work, so chunks run side by side; each chunk has its
    # own random stream, so the result does not depend on the number of workers.
    workers = min(len(parts), workers or min(2, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for data in pool.map(part, range(len(parts))):
            text = data.decode("ascii")
            out.extend(text[i : i + width] + tail for i in range(0, len(text), width))
    return out


# --- measuring what was generated -------------------------------------------------------------

_CLASS_OF = np.zeros(256, dtype=np.int8)  # 0 no mark, 1 attended, 2 auth, 3 unauth, 4 not possible
for _char, _code in CHAR_TO_CODE.items():
    _entry = classify(_code, on=date(2000, 1, 1))
    _CLASS_OF[ord(_char)] = (
        4
        if not _entry.possible_session
        else 1
        if _entry.stat_class in ATTENDANCE_CLASSES
        else 2
        if _entry.stat_class is StatClass.AUTHORISED_ABSENCE
        else 3
    )


@dataclass(frozen=True)
class Realised:
    """Absence measured on register strings, as the DfE measures it (sessions summed over
    pupils; PA and severe by each pupil's own possible sessions)."""

    pupils: int = 0
    possible: int = 0
    attended: int = 0
    authorised: int = 0
    unauthorised: int = 0
    persistent: int = 0  # pupils with absence >= 10 % of their possible sessions
    severe: int = 0  # ... >= 50 %
    by_code: tuple[tuple[str, int], ...] = ()

    def __add__(self, other: Realised) -> Realised:
        codes = dict(self.by_code)
        for code, count in other.by_code:
            codes[code] = codes.get(code, 0) + count
        return Realised(
            self.pupils + other.pupils,
            self.possible + other.possible,
            self.attended + other.attended,
            self.authorised + other.authorised,
            self.unauthorised + other.unauthorised,
            self.persistent + other.persistent,
            self.severe + other.severe,
            tuple(sorted(codes.items())),
        )

    def rate(self, sessions: int) -> float:
        return sessions / self.possible if self.possible else 0.0

    @property
    def overall_rate(self) -> float:
        return self.rate(self.authorised + self.unauthorised)

    @property
    def authorised_rate(self) -> float:
        return self.rate(self.authorised)

    @property
    def unauthorised_rate(self) -> float:
        return self.rate(self.unauthorised)

    @property
    def persistent_rate(self) -> float:
        return self.persistent / self.pupils if self.pupils else 0.0

    @property
    def severe_rate(self) -> float:
        return self.severe / self.pupils if self.pupils else 0.0

    def code_rate(self, code: str) -> float:
        return self.rate(dict(self.by_code).get(code, 0))


def measure(marks: Sequence[str]) -> Realised:
    """Absence figures of register strings of one index (all the same length)."""
    if not marks:
        return Realised()
    width = len(marks[0])
    grid = np.frombuffer("".join(marks).encode("ascii"), dtype=np.uint8).reshape(-1, width)
    cls = _CLASS_OF[grid]
    counts = [(cls == c).sum(axis=1, dtype=np.int64) for c in (1, 2, 3)]
    attended, authorised, unauthorised = counts
    possible = attended + authorised + unauthorised
    absent = authorised + unauthorised
    chars = np.bincount(grid.ravel(), minlength=256)
    by_code = tuple(
        sorted(
            (CHAR_TO_CODE[chr(c)], int(chars[c]))
            for c in np.nonzero(chars)[0]
            if chr(c) in CHAR_TO_CODE
        )
    )
    return Realised(
        pupils=len(marks),
        possible=int(possible.sum()),
        attended=int(attended.sum()),
        authorised=int(authorised.sum()),
        unauthorised=int(unauthorised.sum()),
        persistent=int(((possible > 0) & (absent * 10 >= possible)).sum()),
        severe=int(((possible > 0) & (absent * 2 >= possible)).sum()),
        by_code=by_code,
    )
