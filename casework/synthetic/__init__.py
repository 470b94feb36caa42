"""Synthetic schools, pupils and attendance registers for tests, demos and benchmarks.

Only invented people: names are random combinations of short generic lists, addresses use
``ZZ99`` pseudo-postcodes, UPNs are built with valid check letters. Registers are calibrated to the
DfE's published 2023/24 absence figures (DATA-FORMATS.md §5).

- ``population``: :class:`SyntheticSchool`, :func:`make_pupils`, :func:`synthetic_schools`;
- ``absence``: :func:`generate_marks` (numpy, vectorised), the fitted rate distribution and
  :data:`NATIONAL_2023_24`, :func:`measure`;
- ``files``: a school's CTF or CSV, :func:`write_county`, :func:`daily_marks`.

The ``files`` functions import the CTF and CSV writers when called.
"""

from casework.synthetic.absence import (
    MIXTURE_2023_24,
    NATIONAL_2023_24,
    AbsenceTargets,
    Mixture,
    Realised,
    absence_rates,
    generate_marks,
    measure,
)
from casework.synthetic.files import (
    CountySummary,
    daily_marks,
    write_county,
    write_school_csv,
    write_school_ctf,
)
from casework.synthetic.population import (
    SyntheticPupil,
    SyntheticSchool,
    make_pupils,
    school_sizes,
    synthetic_schools,
)

__all__ = [
    "MIXTURE_2023_24",
    "NATIONAL_2023_24",
    "AbsenceTargets",
    "CountySummary",
    "Mixture",
    "Realised",
    "SyntheticPupil",
    "SyntheticSchool",
    "absence_rates",
    "daily_marks",
    "generate_marks",
    "make_pupils",
    "measure",
    "school_sizes",
    "synthetic_schools",
    "write_county",
    "write_school_csv",
    "write_school_ctf",
]
