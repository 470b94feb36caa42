"""DfE-style absence aggregates over enrolments (DATA-FORMATS.md §3.2 and §7).

Column names and formulas are the published ones (explore-education-statistics):

- ``enrolments``: enrolments with at least one possible session; **enrolments with zero possible
  sessions are left out** of every column (DfE rule).
- ``sess_possible``, ``sess_authorised``, ``sess_unauthorised``; ``sess_overall`` = authorised +
  unauthorised.
- ``sess_overall_percent = sess_overall / sess_possible * 100`` (likewise authorised and
  unauthorised).
- Persistent absence, "exact" method: an enrolment is persistently absent when ITS OWN absence is
  10 % or more of its own possible sessions (``enrolments_pa_10_exact``), severely when 50 % or
  more (``enrolments_pa_50_exact``); ``..._percent`` is of ``enrolments``.
  ``sess_possible_pa_10_exact`` and ``sess_overall_pa_10_exact`` total the sessions of the
  persistently absent enrolments. The 10 and 50 are the DfE statistical definitions the column
  names carry, not LA settings. The comparison is exact (integers).

Percentages are kept as exact floats (None when the denominator is 0); round only for
presentation: :meth:`Aggregate.row` rounds to one decimal place by default, as the published
tables show rates, or not at all with ``decimals=None``.

Each enrolment is one row (a pupil registered at two schools is two enrolments, as in the
census). Inputs are :class:`~casework.analytics.totals.Totals`, anything with ``possible``,
``authorised`` and ``unauthorised``, or the arrays of a
:class:`~casework.analytics.county.CountyResult`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, fields
from typing import Protocol, TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)

PA_PERCENT = 10
SEVERE_PERCENT = 50

COLUMNS = (
    "enrolments",
    "sess_possible",
    "sess_overall",
    "sess_authorised",
    "sess_unauthorised",
    "sess_overall_percent",
    "sess_authorised_percent",
    "sess_unauthorised_percent",
    "enrolments_pa_10_exact",
    "enrolments_pa_10_exact_percent",
    "sess_possible_pa_10_exact",
    "sess_overall_pa_10_exact",
    "enrolments_pa_50_exact",
    "enrolments_pa_50_exact_percent",
)


class EnrolmentCounts(Protocol):
    possible: int
    authorised: int
    unauthorised: int


@dataclass(frozen=True)
class Aggregate:
    enrolments: int
    sess_possible: int
    sess_overall: int
    sess_authorised: int
    sess_unauthorised: int
    sess_overall_percent: float | None
    sess_authorised_percent: float | None
    sess_unauthorised_percent: float | None
    enrolments_pa_10_exact: int
    enrolments_pa_10_exact_percent: float | None
    sess_possible_pa_10_exact: int
    sess_overall_pa_10_exact: int
    enrolments_pa_50_exact: int
    enrolments_pa_50_exact_percent: float | None

    def row(self, decimals: int | None = 1) -> dict[str, int | float | None]:
        """The DfE columns in order; percentages rounded to ``decimals`` (None: exact)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        if decimals is not None:
            for key, value in values.items():
                if key.endswith("_percent") and value is not None:
                    values[key] = round(value, decimals)
        return {key: values[key] for key in COLUMNS}


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole * 100


def _is_pa(absent: int, possible: int, percent: int) -> bool:
    return absent * 100 >= percent * possible


def from_sums(
    enrolments: int,
    possible: int,
    authorised: int,
    unauthorised: int,
    pa_enrolments: int,
    pa_possible: int,
    pa_overall: int,
    severe_enrolments: int,
) -> Aggregate:
    """An aggregate from its summed counts (the percentages worked out here)."""
    overall = authorised + unauthorised
    return Aggregate(
        enrolments=enrolments,
        sess_possible=possible,
        sess_overall=overall,
        sess_authorised=authorised,
        sess_unauthorised=unauthorised,
        sess_overall_percent=_percent(overall, possible),
        sess_authorised_percent=_percent(authorised, possible),
        sess_unauthorised_percent=_percent(unauthorised, possible),
        enrolments_pa_10_exact=pa_enrolments,
        enrolments_pa_10_exact_percent=_percent(pa_enrolments, enrolments),
        sess_possible_pa_10_exact=pa_possible,
        sess_overall_pa_10_exact=pa_overall,
        enrolments_pa_50_exact=severe_enrolments,
        enrolments_pa_50_exact_percent=_percent(severe_enrolments, enrolments),
    )


def aggregate(items: Iterable[EnrolmentCounts]) -> Aggregate:
    """One aggregate over enrolments (``Totals`` or anything with possible / authorised /
    unauthorised); enrolments with no possible session are left out."""
    sums = [0] * 8
    for item in items:
        possible = int(item.possible)
        if possible <= 0:
            continue
        authorised, unauthorised = int(item.authorised), int(item.unauthorised)
        absent = authorised + unauthorised
        pa = _is_pa(absent, possible, PA_PERCENT)
        for i, value in enumerate(
            (
                1,
                possible,
                authorised,
                unauthorised,
                int(pa),
                possible if pa else 0,
                absent if pa else 0,
                int(_is_pa(absent, possible, SEVERE_PERCENT)),
            )
        ):
            sums[i] += value
    return from_sums(*sums)


def aggregate_by(items: Iterable[tuple[K, EnrolmentCounts]]) -> dict[K, Aggregate]:
    """An aggregate per key (school, LA, year group, ...), keys in first-seen order; a key whose
    every enrolment has no possible session is left out."""
    grouped: dict[K, list[EnrolmentCounts]] = defaultdict(list)
    for key, item in items:
        grouped[key].append(item)
    found = {key: aggregate(group) for key, group in grouped.items()}
    return {key: agg for key, agg in found.items() if agg.enrolments}


def aggregate_arrays(
    possible: np.ndarray,
    authorised: np.ndarray,
    unauthorised: np.ndarray,
    groups: np.ndarray | None = None,
) -> dict[Hashable, Aggregate]:
    """Vectorised aggregates over per-enrolment arrays (a county result's), one per distinct
    value of ``groups`` (or one under the key ``None``); zero-possible enrolments left out."""
    possible = np.asarray(possible, dtype=np.int64)
    authorised = np.asarray(authorised, dtype=np.int64)
    unauthorised = np.asarray(unauthorised, dtype=np.int64)
    keep = possible > 0
    if groups is None:
        groups = np.zeros(len(possible), dtype=np.int8)
        names: list[Hashable] = [None]
        index = groups[keep]
    else:
        values, index = np.unique(np.asarray(groups)[keep], return_inverse=True)
        names = [v.item() if hasattr(v, "item") else v for v in values]
    possible, authorised, unauthorised = possible[keep], authorised[keep], unauthorised[keep]
    absent = authorised + unauthorised
    pa = absent * 100 >= PA_PERCENT * possible
    severe = absent * 100 >= SEVERE_PERCENT * possible
    size = len(names)

    def total(values: np.ndarray) -> list[int]:
        return np.bincount(index, weights=values, minlength=size).astype(np.int64).tolist()

    columns = [
        total(np.ones(len(possible), dtype=np.int64)),
        total(possible),
        total(authorised),
        total(unauthorised),
        total(pa.astype(np.int64)),
        total(np.where(pa, possible, 0)),
        total(np.where(pa, absent, 0)),
        total(severe.astype(np.int64)),
    ]
    found = {name: from_sums(*(c[i] for c in columns)) for i, name in enumerate(names)}
    return {name: agg for name, agg in found.items() if agg.enrolments}


def aggregate_county(result: object, groups: np.ndarray | None = None) -> dict[Hashable, Aggregate]:
    """:func:`aggregate_arrays` over a ``CountyResult`` (its counts from start to as_at)."""
    return aggregate_arrays(
        result.possible,  # type: ignore[attr-defined]
        result.authorised,  # type: ignore[attr-defined]
        result.unauthorised,  # type: ignore[attr-defined]
        groups,
    )


# --- cohorts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Characteristics:
    """The pupil characteristics casework and the DfE statistics cut by (the pupil's columns)."""

    fsm: bool = False
    sen_support: bool = False
    ehc_plan: bool = False
    looked_after: bool = False
    social_worker: bool = False
    young_carer: bool = False
    eal: bool = False
    nc_year: int | None = None
    sex: str | None = None

    @classmethod
    def of(cls, pupil: object) -> Characteristics:
        """From a ``Pupil`` row (or anything with the same attributes)."""
        return cls(**{f.name: getattr(pupil, f.name, None) for f in fields(cls)})


COHORTS = tuple(f.name for f in fields(Characteristics))


def cohort_keys(characteristics: Characteristics) -> list[tuple[str, object]]:
    """The cohorts a pupil is counted in: ``("all", None)`` and one ``(characteristic, value)``
    per characteristic (both values of a yes/no one, so "FSM" and "not FSM" both appear)."""
    keys: list[tuple[str, object]] = [("all", None)]
    for name in COHORTS:
        value = getattr(characteristics, name)
        if value is not None:
            keys.append((name, value))
    return keys


def aggregate_cohorts(
    items: Iterable[tuple[Characteristics, EnrolmentCounts]],
) -> dict[tuple[str, object], Aggregate]:
    """An aggregate per cohort (see :func:`cohort_keys`), ordered by cohort then value."""
    found = aggregate_by(
        (key, counts) for characteristics, counts in items for key in cohort_keys(characteristics)
    )
    order = {name: i for i, name in enumerate(("all", *COHORTS))}
    return dict(sorted(found.items(), key=lambda kv: (order[kv[0][0]], str(kv[0][1]))))


__all__ = [
    "COHORTS",
    "COLUMNS",
    "Aggregate",
    "Characteristics",
    "aggregate",
    "aggregate_arrays",
    "aggregate_by",
    "aggregate_cohorts",
    "aggregate_county",
    "cohort_keys",
    "from_sums",
]
