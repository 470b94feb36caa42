"""Absence statistics the DfE way (``casework.analytics.aggregates``) for what the user may see:
overall, per school and per cohort (FSM, SEN support, EHC plan, looked after, social worker,
young carer, EAL, year group, sex), year to date, from the registers."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import numpy as np
from sqlalchemy import select

from casework.analytics.aggregates import Aggregate, Characteristics, aggregate_arrays, cohort_keys
from casework.analytics.county import county_flags, layout
from casework.calendars.model import academic_year_of
from casework.models import Pupil, RegisterYear, School
from casework.registers.marks import session_index
from workflows.context import Context

GROUPINGS = ("all", "school", "cohort")


def absence_statistics(ctx: Context, *, as_at: date | None = None, by: str = "all") -> list[dict]:
    """One row per group: the key and the DfE columns (rates to one decimal place)."""
    day = as_at or ctx.today()
    year = academic_year_of(day)
    schools = dict(
        ctx.session.execute(select(School.id, School.name).where(ctx.scope.schools())).all()
    )
    table = RegisterYear.__table__
    rows: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for school_id, pupil_id, marks in ctx.session.execute(
        select(table.c.school_id, table.c.pupil_id, table.c.marks).where(
            table.c.academic_year == year, table.c.school_id.in_(list(schools))
        )
    ):
        rows[school_id].append((pupil_id, marks))
    ids, school_of, possible, authorised, unauthorised = [], [], [], [], []
    for school_id, found in rows.items():
        index = session_index(ctx.calendar_for(school_id), year)
        batch = [(p, m) for p, m in found if len(m) == len(index)]
        result = county_flags(
            layout(index),
            [p for p, _ in batch],
            [m for _, m in batch],
            rules=ctx.profile.analytics,
            as_at=day,
        )
        ids.extend(p for p, _ in batch)
        school_of.extend([schools[school_id]] * len(batch))
        possible.append(result.possible)
        authorised.append(result.authorised)
        unauthorised.append(result.unauthorised)
    if not ids:
        return []
    counts = [np.concatenate(c) for c in (possible, authorised, unauthorised)]
    if by == "school":
        return _rows("school", aggregate_arrays(*counts, np.array(school_of, dtype=object)))
    if by == "cohort":
        return _cohorts(ctx, ids, counts)
    return _rows("all", aggregate_arrays(*counts))


def _cohorts(ctx: Context, ids: list[int], counts: list[np.ndarray]) -> list[dict]:
    pupils = {}
    for start in range(0, len(ids), 900):
        for pupil in ctx.session.scalars(
            select(Pupil).where(Pupil.id.in_(ids[start : start + 900]))
        ):
            pupils[pupil.id] = Characteristics.of(pupil)
    keys = [cohort_keys(pupils[p]) for p in ids]
    rows = []
    for cohort in ("all", *(f for f in Characteristics.__dataclass_fields__)):
        labels = np.array(
            [next((str(v) for k, v in ks if k == cohort), "") for ks in keys], dtype=object
        )
        found = aggregate_arrays(*counts, labels)
        rows.extend(
            {"cohort": cohort, "value": None if cohort == "all" else value, **agg.row()}
            for value, agg in sorted(found.items(), key=lambda kv: str(kv[0]))
            if value != "" or cohort == "all"
        )
    return rows


def _rows(key: str, found: dict[object, Aggregate]) -> list[dict]:
    return [
        {key: name, **agg.row()} for name, agg in sorted(found.items(), key=lambda kv: str(kv[0]))
    ]
