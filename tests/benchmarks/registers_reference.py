"""The attendance flags as ONE DuckDB SQL query over one row per pupil-session: the reference the
county register benchmark (``bench_registers``) times the vectorised engine against, and checks
it against, flag by flag.

The marks are given to DuckDB in the natural relational form, ``marks(pupil_id, day, sess,
code)``, built (untimed) from the stored register strings and each school's session dates; a
small ``codes(code, stat)`` table says how each code counts (``casework.registers.codes``). The
query follows the conventions of ``casework.analytics.flags`` (read its module notes):

- only marked sessions count; rates and illness count from ``start`` to ``as_at``;
- a pupil's **school weeks** are the Monday-to-Sunday weeks in which they have a marked session
  (of any code); a rolling window is ``n`` consecutive school weeks ending at one of them (fewer
  at the start), counted when its last week is on or after ``start``'s week;
- a **school day** is a day with a possible session; a day of continuous absence has every
  possible session unauthorised; days with no possible session neither count nor break a run;
- the trend compares attendance in the last ``n`` school weeks with the ``n`` before (needs
  ``2n`` school weeks and the last on or after ``start``'s week), a fall of ``trend_drop_points``
  or more, exactly.

All comparisons are exact integer ones, with the profile's numbers read as fractions, as the
engine reads them. No prior year is loaded (the benchmark's county has one year), so windows and
runs start with the year.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

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
from casework.registers.codes import CODES
from casework.registers.marks import CODE_TO_CHAR, SessionIndex
from config.profiles import AnalyticsRules

COUNT_COLUMNS = ("possible", "attended", "authorised", "unauthorised", "illness")


def _ratio(value: float) -> tuple[int, int]:
    f = Fraction(str(value))
    return f.numerator, f.denominator


def flags_sql(rules: AnalyticsRules) -> str:
    """The query (parameters ``$as_at``, ``$start``, ``$start_monday``): one row per pupil with
    the counts, the best window counts, the longest run and one boolean column per flag key."""
    counted = ", ".join(f"'{c}'" for c in sorted(counted_set(tuple(rules.counted_codes))))
    pers_p, pers_q = _ratio(rules.persistent_percent)
    sev_p, sev_q = _ratio(rules.severe_percent)
    low_p, low_q = _ratio(rules.concern_below_percent)
    neg_p, neg_q = _ratio(rules.neglect_at_or_below_percent)
    ill_p, ill_q = _ratio(rules.illness_days)
    drop_p, drop_q = _ratio(rules.trend_drop_points)
    thr_w, late_w = rules.threshold_school_weeks, rules.late_u_school_weeks
    runs = sorted(rules.continuous_absence_days)
    shortest = runs[0] if runs else 1
    trend_cols, trend_tests = [], []
    for n in sorted(rules.trend_school_weeks):
        trend_cols += [
            f"sum(attended) FILTER (WHERE back <= {n}) AS a_last_{n}",
            f"sum(possible) FILTER (WHERE back <= {n}) AS p_last_{n}",
            f"sum(attended) FILTER (WHERE back > {n} AND back <= {2 * n}) AS a_before_{n}",
            f"sum(possible) FILTER (WHERE back > {n} AND back <= {2 * n}) AS p_before_{n}",
        ]
        trend_tests.append(
            f"(w.school_weeks >= {2 * n} AND w.p_last_{n} > 0 AND w.p_before_{n} > 0 AND "
            f"100 * (w.a_before_{n} * w.p_last_{n} - w.a_last_{n} * w.p_before_{n}) * {drop_q}"
            f" >= {drop_p} * w.p_before_{n} * w.p_last_{n})"
        )
    trend = " OR ".join(trend_tests) or "FALSE"
    run_flags = "".join(
        f",\n    coalesce(r.longest, 0) >= {n} AS {continuous_key(n)}" for n in runs
    )
    return f"""
WITH m AS (
    SELECT k.pupil_id, k.day, k.code, c.stat,
           c.stat <> 'not_possible' AS possible,
           c.stat IN ('present', 'approved_educational_activity') AS attended,
           c.stat = 'unauthorised_absence' AS unauthorised,
           date_trunc('week', k.day) AS week
    FROM marks k JOIN codes c ON c.code = k.code
    WHERE k.day <= $as_at
),
totals AS (
    SELECT pupil_id,
        count(*) FILTER (WHERE possible) AS possible,
        count(*) FILTER (WHERE attended) AS attended,
        count(*) FILTER (WHERE stat = 'authorised_absence') AS authorised,
        count(*) FILTER (WHERE unauthorised) AS unauthorised,
        count(*) FILTER (WHERE code = 'I') AS illness
    FROM m WHERE day >= $start
    GROUP BY pupil_id
),
weeks AS (
    SELECT pupil_id, week,
        count(*) FILTER (WHERE unauthorised AND code IN ({counted})) AS counted,
        count(*) FILTER (WHERE unauthorised AND code = 'U') AS late_u,
        count(*) FILTER (WHERE possible) AS possible,
        count(*) FILTER (WHERE attended) AS attended
    FROM m GROUP BY pupil_id, week
),
rolling AS (
    SELECT pupil_id, week, possible, attended,
        sum(counted) OVER (PARTITION BY pupil_id ORDER BY week
                           ROWS BETWEEN {thr_w - 1} PRECEDING AND CURRENT ROW) AS counted_window,
        sum(late_u) OVER (PARTITION BY pupil_id ORDER BY week
                          ROWS BETWEEN {late_w - 1} PRECEDING AND CURRENT ROW) AS late_window,
        row_number() OVER (PARTITION BY pupil_id ORDER BY week DESC) AS back
    FROM weeks
),
by_pupil AS (
    SELECT pupil_id,
        coalesce(max(counted_window) FILTER (WHERE week >= $start_monday), 0) AS best_threshold,
        coalesce(max(late_window) FILTER (WHERE week >= $start_monday), 0) AS best_late,
        count(*) AS school_weeks,
        max(week) AS last_week,
        {", ".join(trend_cols) or "0 AS no_trend"}
    FROM rolling GROUP BY pupil_id
),
days AS (
    SELECT pupil_id, day,
        count(*) FILTER (WHERE possible) = count(*) FILTER (WHERE unauthorised) AS absent_day
    FROM m GROUP BY pupil_id, day
    HAVING count(*) FILTER (WHERE possible) > 0
),
candidates AS (  -- only pupils with enough days of continuous absence can have a run
    SELECT pupil_id FROM days GROUP BY pupil_id
    HAVING count(*) FILTER (WHERE absent_day) >= {shortest}
),
islands AS (
    SELECT d.pupil_id, d.day, d.absent_day,
        row_number() OVER (PARTITION BY d.pupil_id ORDER BY d.day)
        - row_number() OVER (PARTITION BY d.pupil_id, d.absent_day ORDER BY d.day) AS grp
    FROM days d SEMI JOIN candidates c ON c.pupil_id = d.pupil_id
),
runs AS (
    SELECT pupil_id, max(length) AS longest FROM (
        SELECT pupil_id, count(*) AS length, max(day) AS last_day
        FROM islands WHERE absent_day GROUP BY pupil_id, grp
    ) WHERE last_day >= $start
    GROUP BY pupil_id
)
SELECT w.pupil_id,
    coalesce(t.possible, 0) AS possible,
    coalesce(t.attended, 0) AS attended,
    coalesce(t.authorised, 0) AS authorised,
    coalesce(t.unauthorised, 0) AS unauthorised,
    coalesce(t.illness, 0) AS illness,
    w.best_threshold, w.best_late, coalesce(r.longest, 0) AS longest_run,
    coalesce(t.possible > 0 AND (t.possible - t.attended) * 100 * {pers_q}
             >= {pers_p} * t.possible, FALSE) AS {PERSISTENT},
    coalesce(t.possible > 0 AND (t.possible - t.attended) * 100 * {sev_q}
             >= {sev_p} * t.possible, FALSE) AS {SEVERE},
    coalesce(t.possible > 0 AND t.attended * 100 * {low_q} < {low_p} * t.possible,
             FALSE) AS {BELOW_95},
    coalesce(t.possible > 0 AND t.attended * 100 * {neg_q} <= {neg_p} * t.possible,
             FALSE) AS {NEGLECT},
    w.best_threshold >= {rules.threshold_sessions} AS {THRESHOLD},
    w.best_late >= {rules.late_u_marks} AS {LATE}{run_flags},
    coalesce(t.illness > 0 AND t.illness * {ill_q} >= 2 * {ill_p}, FALSE)
        AS {illness_key(rules.illness_days)},
    w.last_week >= $start_monday AND coalesce({trend}, FALSE) AS {TREND}
FROM by_pupil w
LEFT JOIN totals t ON t.pupil_id = w.pupil_id
LEFT JOIN runs r ON r.pupil_id = w.pupil_id
"""


@dataclass
class Reference:
    build_seconds: float
    rows: int  # pupil-session rows in ``marks``
    timings: dict[int, float]  # threads -> best query seconds
    result: dict[str, np.ndarray]  # column -> values, rows in pupil_id order


def run_duckdb(
    workdir: Path,
    batches: Sequence[tuple[SessionIndex, np.ndarray, Sequence[str]]],
    *,
    rules: AnalyticsRules,
    as_at: date,
    start: date,
    threads: Sequence[int] = (1, 2),
    repeats: int = 2,
) -> Reference:
    """Load the strings into DuckDB one row per marked session, then time :func:`flags_sql`
    (best of ``repeats`` runs for each thread count)."""
    import duckdb

    regs, sessions = workdir / "registers.csv", workdir / "sessions.csv"
    with regs.open("w", newline="") as r, sessions.open("w", newline="") as s:
        rw, sw = csv.writer(r, delimiter="|"), csv.writer(s, delimiter="|")
        for school_no, (index, ids, marks) in enumerate(batches):
            for pupil_id, text in zip(ids.tolist(), marks, strict=True):
                rw.writerow((pupil_id, school_no, text))
            for pos, (day, name) in enumerate(index.sessions):
                sw.writerow((school_no, pos, day.isoformat(), name))
    path = workdir / "reference.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute("SET memory_limit = '6GB'")
        con.execute(f"SET temp_directory = '{workdir / 'duckdb_tmp'}'")
        started = time.perf_counter()
        con.execute("CREATE TABLE codes (ch VARCHAR, code VARCHAR, stat VARCHAR)")
        con.executemany(
            "INSERT INTO codes VALUES (?, ?, ?)",
            [(CODE_TO_CHAR[c], c, entry.stat_class.value) for c, entry in CODES.items()],
        )
        options = "delim = '|', header = false, quote = '', escape = ''"
        con.execute(
            f"CREATE TABLE registers AS SELECT * FROM read_csv('{regs}', {options}, "
            "columns = {'pupil_id': 'INTEGER', 'school_no': 'INTEGER', 'marks': 'VARCHAR'})"
        )
        con.execute(
            f"CREATE TABLE school_sessions AS SELECT * FROM read_csv('{sessions}', {options}, "
            "columns = {'school_no': 'INTEGER', 'pos': 'INTEGER', 'day': 'DATE', "
            "'sess': 'VARCHAR'})"
        )
        # One row per marked session: each character of the string at its session's position.
        con.execute(
            "CREATE TABLE marks AS "
            "SELECT r.pupil_id, s.day, s.sess, c.code "
            "FROM registers r JOIN school_sessions s ON s.school_no = r.school_no "
            "JOIN codes c ON c.ch = substr(r.marks, s.pos + 1, 1) "
            "ORDER BY r.pupil_id, s.day, s.sess"
        )
        con.execute("DROP TABLE registers")
        con.execute("DROP TABLE school_sessions")
        con.execute("CHECKPOINT")
        rows = con.execute("SELECT count(*) FROM marks").fetchone()[0]
        build = time.perf_counter() - started
        query = flags_sql(rules)
        params = {
            "as_at": as_at,
            "start": start,
            "start_monday": start - timedelta(days=start.weekday()),
        }
        timings: dict[int, float] = {}
        result: dict[str, np.ndarray] = {}
        for n in threads:
            con.execute(f"SET threads = {n}")
            best = float("inf")
            for _ in range(repeats):
                began = time.perf_counter()
                result = con.execute(query, params).fetchnumpy()
                best = min(best, time.perf_counter() - began)
            timings[n] = best
    finally:
        con.close()
        for leftover in (regs, sessions, path, path.with_suffix(".duckdb.wal")):
            leftover.unlink(missing_ok=True)
    order = np.argsort(np.asarray(result["pupil_id"]), kind="stable")
    return Reference(
        build, int(rows), timings, {k: np.asarray(v)[order] for k, v in result.items()}
    )


@dataclass
class Agreement:
    key: str
    engine: int
    reference: int
    both: int
    only_engine: list[int]
    only_reference: list[int]

    @property
    def agrees(self) -> bool:
        return not self.only_engine and not self.only_reference


def compare_sets(
    keys: Sequence[str], engine: dict[str, set[int]], reference: dict[str, set[int]]
) -> list[Agreement]:
    out = []
    for key in keys:
        e, r = engine.get(key, set()), reference.get(key, set())
        out.append(Agreement(key, len(e), len(r), len(e & r), sorted(e - r), sorted(r - e)))
    return out


def reference_sets(ref: Reference, rules: AnalyticsRules) -> dict[str, set[int]]:
    ids = ref.result["pupil_id"]
    return {key: set(ids[ref.result[key].astype(bool)].tolist()) for key in flag_keys(rules)}
