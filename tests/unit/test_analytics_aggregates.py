"""DfE aggregates on hand-made totals (DATA-FORMATS.md §3.2): sess_overall_percent =
sess_overall / sess_possible x 100; persistent absence by the per-enrolment "exact" method;
enrolments with zero possible sessions left out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from casework.analytics.aggregates import (
    COLUMNS,
    Characteristics,
    aggregate,
    aggregate_arrays,
    aggregate_by,
    aggregate_cohorts,
    cohort_keys,
)
from casework.analytics.totals import Totals


@dataclass(frozen=True)
class E:
    possible: int
    authorised: int
    unauthorised: int


def T(possible, authorised, unauthorised) -> Totals:
    absent = authorised + unauthorised
    return Totals(
        possible, possible - absent, possible - absent, 0, authorised, unauthorised, absent, 0
    )


# Four enrolments worked by hand:
#   A: 100 possible, 4 auth + 2 unauth = 6 absent (6%): not PA
#   B: 200 possible, 10 + 10 = 20 (exactly 10%): PA (exact method, >= 10%)
#   C: 50 possible, 20 + 5 = 25 (exactly 50%): PA and severe
#   D: 0 possible (left out entirely)
ENROLMENTS = [T(100, 4, 2), T(200, 10, 10), T(50, 20, 5), T(0, 0, 0)]


def test_dfe_formulas_on_hand_made_totals():
    agg = aggregate(ENROLMENTS)
    assert agg.enrolments == 3
    assert agg.sess_possible == 350
    assert (agg.sess_authorised, agg.sess_unauthorised, agg.sess_overall) == (34, 17, 51)
    assert agg.sess_overall_percent == pytest.approx(51 / 350 * 100)
    assert agg.sess_authorised_percent == pytest.approx(34 / 350 * 100)
    assert agg.sess_unauthorised_percent == pytest.approx(17 / 350 * 100)
    assert agg.enrolments_pa_10_exact == 2
    assert agg.enrolments_pa_10_exact_percent == pytest.approx(200 / 3)
    assert agg.sess_possible_pa_10_exact == 250
    assert agg.sess_overall_pa_10_exact == 45
    assert agg.enrolments_pa_50_exact == 1
    assert agg.enrolments_pa_50_exact_percent == pytest.approx(100 / 3)


def test_row_uses_the_dfe_column_names_and_rounds_only_for_presentation():
    agg = aggregate(ENROLMENTS)
    row = agg.row()
    assert tuple(row) == COLUMNS
    assert row["sess_overall_percent"] == 14.6  # 14.571...
    assert row["enrolments_pa_10_exact_percent"] == 66.7
    assert agg.row(decimals=None)["sess_overall_percent"] == agg.sess_overall_percent


def test_zero_possible_enrolments_are_left_out():
    agg = aggregate([T(0, 0, 0), E(0, 0, 0)])
    assert agg.enrolments == 0
    assert agg.sess_overall_percent is None
    assert agg.enrolments_pa_10_exact_percent is None
    assert aggregate_by([("school-a", T(0, 0, 0)), ("school-b", T(10, 1, 0))]).keys() == {
        "school-b"
    }


def test_grouped_by_a_key():
    found = aggregate_by([("oak", ENROLMENTS[0]), ("river", ENROLMENTS[1]), ("oak", ENROLMENTS[2])])
    assert list(found) == ["oak", "river"]
    assert found["oak"].enrolments == 2 and found["oak"].enrolments_pa_10_exact == 1
    assert found["river"].enrolments_pa_10_exact_percent == 100


def test_cohorts_count_each_characteristic_both_ways():
    fsm = Characteristics(fsm=True, nc_year=4, sex="F")
    not_fsm = Characteristics(fsm=False, ehc_plan=True, nc_year=4, sex="M")
    assert ("fsm", True) in cohort_keys(fsm) and ("sex", "F") in cohort_keys(fsm)
    found = aggregate_cohorts([(fsm, ENROLMENTS[2]), (not_fsm, ENROLMENTS[0])])
    assert found[("all", None)].enrolments == 2
    assert found[("fsm", True)].enrolments_pa_50_exact == 1
    assert found[("fsm", False)].enrolments_pa_10_exact == 0
    assert found[("ehc_plan", True)].sess_possible == 100
    assert found[("nc_year", 4)].enrolments == 2
    assert found[("sex", "M")].sess_overall == 6
    assert next(iter(found)) == ("all", None)


def test_characteristics_from_a_pupil_row():
    @dataclass
    class Row:
        fsm: bool = True
        sen_support: bool = False
        ehc_plan: bool = False
        looked_after: bool = True
        social_worker: bool = False
        young_carer: bool = True
        eal: bool = False
        nc_year: int = 9
        sex: str = "F"

    found = Characteristics.of(Row())
    assert found.looked_after and found.young_carer and found.nc_year == 9


enrolment = st.builds(
    lambda possible, a, u: E(possible, min(a, possible), min(u, possible - min(a, possible))),
    st.integers(0, 400),
    st.integers(0, 400),
    st.integers(0, 400),
)


@given(st.lists(st.tuples(st.sampled_from("abc"), enrolment), max_size=40))
def test_vectorised_aggregates_equal_the_plain_ones(rows):
    plain = aggregate_by(rows)
    arrays = aggregate_arrays(
        np.array([e.possible for _, e in rows], dtype=np.int64),
        np.array([e.authorised for _, e in rows], dtype=np.int64),
        np.array([e.unauthorised for _, e in rows], dtype=np.int64),
        np.array([k for k, _ in rows]) if rows else None,
    )
    assert {str(k): v for k, v in arrays.items()} == {k: v for k, v in plain.items()}
