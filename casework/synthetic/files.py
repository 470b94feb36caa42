"""Synthetic register files: a school's CTF or CSV, a whole county of them, one day's marks.

Files are built from the same records the importers read (:mod:`casework.registers.records`) and
written by the service's own writers (``casework.registers.ctf``, ``casework.registers.csv_marks``),
so a round trip is generate -> write -> parse -> import. Nothing here prints; the CLI does.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from casework.calendars.model import academic_year_of
from casework.registers.codes import ATTENDANCE_CLASSES, StatClass, classify
from casework.registers.marks import CHAR_TO_CODE, NO_MARK, MarkString, SessionIndex, session_index
from casework.registers.records import CtfFile, CtfHeader, CtfPupil, CtfYearData, MarkRow
from casework.synthetic.absence import (
    NATIONAL_2023_24,
    AbsenceTargets,
    Realised,
    absence_rates,
    generate_marks,
    measure,
)
from casework.synthetic.population import SyntheticPupil, SyntheticSchool, make_pupils

SUPPLIER = "Casework synthetic data"
FORMATS = frozenset({"ctf", "csv"})


def ctf_version(today: date) -> str:
    """The newest CTF version the service accepts on ``today`` (e.g. ``"26.0"``)."""
    from casework.registers.ctf import default_ctf_versions

    numbers = {int(v.split(".")[0]) for v in default_ctf_versions(today)}
    # Two-digit years: the newest is the largest, except across a century (99 -> 00).
    newest = max(numbers, key=lambda n: (n - today.year % 100 + 50) % 100)
    return f"{newest:02d}.0"


def _bucket(code: str) -> int | None:
    """0 attended, 1 authorised, 2 unauthorised, None not a possible session."""
    entry = classify(code, on=date(2000, 1, 1))  # any date: legacy codes keep their class
    if not entry.possible_session:
        return None
    if entry.stat_class in ATTENDANCE_CLASSES:
        return 0
    return 1 if entry.stat_class is StatClass.AUTHORISED_ABSENCE else 2


_BUCKET = {char: _bucket(code) for char, code in CHAR_TO_CODE.items()}


def year_totals(marks: str) -> tuple[int, int, int, int]:
    """``(possible, attended, authorised, unauthorised)`` of one stored register string:
    attended is present plus approved educational activity; unmarked and not-possible sessions
    count nowhere."""
    counts = [0, 0, 0]
    for char in set(marks) - {NO_MARK}:
        bucket = _BUCKET[char]
        if bucket is not None:
            counts[bucket] += marks.count(char)
    attended, authorised, unauthorised = counts
    return attended + authorised + unauthorised, attended, authorised, unauthorised


def ctf_pupil(
    school: SyntheticSchool,
    pupil: SyntheticPupil,
    marks: str,
    index: SessionIndex,
    *,
    academic_year: int,
) -> CtfPupil:
    """The pupil as a CTF record, with one YearData for ``school``'s year (totals from the
    marks; AttendanceMarks from the first session to the last marked one)."""
    from casework.registers.ctf import attendance_marks_text

    possible, attended, authorised, unauthorised = year_totals(marks)
    start, text = attendance_marks_text(index, MarkString(marks))
    year = CtfYearData(
        line=0,
        academic_year=academic_year,
        la=school.la_number,
        estab=school.estab,
        school_name=school.name,
        possible=possible,
        authorised=authorised,
        attended=attended,
        unauthorised=unauthorised,
        start_date=start if text else None,
        marks=text or None,
    )
    return CtfPupil(
        line=0,
        upn=pupil.upn,
        former_upn=None,
        surname=pupil.surname,
        forename=pupil.forename,
        preferred_surname=None,
        preferred_forename=pupil.preferred_forename,
        date_of_birth=pupil.date_of_birth,
        sex=pupil.sex,
        nc_year=pupil.nc_year,
        fsm=pupil.fsm,
        sen_support=pupil.sen_support,
        ehc_plan=pupil.ehc_plan,
        looked_after=pupil.looked_after,
        eal=pupil.eal,
        address=pupil.address,
        contacts=pupil.contacts,
        attendance=(year,),
    )


def _dest(school: SyntheticSchool, dest: tuple[str, str] | None) -> tuple[str, str]:
    return dest if dest is not None else (school.la_number, "XXXX")


def school_ctf(
    school: SyntheticSchool,
    pupils: Sequence[SyntheticPupil],
    marks: Sequence[str],
    index: SessionIndex,
    *,
    academic_year: int,
    dest: tuple[str, str] | None = None,
    generated_at: datetime | None = None,
) -> CtfFile:
    """The school's CTF as records: header from this service, one pupil block per pupil."""
    if len(pupils) != len(marks):
        raise ValueError(f"{len(pupils)} pupils but {len(marks)} register strings")
    when = generated_at or datetime.now().replace(microsecond=0)
    dest_la, dest_estab = _dest(school, dest)
    header = CtfHeader(
        version=ctf_version(when.date()),
        document_name="Common Transfer File",
        generated_at=when,
        document_qualifier="full",
        supplier=SUPPLIER,
        academic_year=academic_year,
        source_la=school.la_number,
        source_estab=school.estab,
        source_urn=school.urn,
        source_name=school.name,
        dest_la=dest_la,
        dest_estab=dest_estab,
    )
    return CtfFile(
        header,
        tuple(
            ctf_pupil(school, p, m, index, academic_year=academic_year)
            for p, m in zip(pupils, marks, strict=True)
        ),
    )


def write_school_ctf(
    school: SyntheticSchool,
    pupils: Sequence[SyntheticPupil],
    marks: Sequence[str],
    index: SessionIndex,
    *,
    academic_year: int,
    dest: tuple[str, str] | None = None,
    generated_at: datetime | None = None,
) -> bytes:
    """The school's CTF XML (``dest`` defaults to the school's own LA, establishment ``XXXX``)."""
    from casework.registers.ctf import write_ctf

    return write_ctf(
        school_ctf(
            school,
            pupils,
            marks,
            index,
            academic_year=academic_year,
            dest=dest,
            generated_at=generated_at,
        )
    )


def mark_rows(
    pupils: Sequence[SyntheticPupil], marks: Sequence[str], index: SessionIndex
) -> Iterator[MarkRow]:
    """Every marked session as a :class:`MarkRow` (line numbers count from 2, after a header)."""
    sessions = index.sessions
    line = 1
    for pupil, chars in zip(pupils, marks, strict=True):
        upn = pupil.upn
        for (day, session), char in zip(sessions, chars, strict=True):
            if char != NO_MARK:
                line += 1
                yield MarkRow(line, upn, day, session, CHAR_TO_CODE[char])


def write_school_csv(
    school: SyntheticSchool,
    pupils: Sequence[SyntheticPupil],
    marks: Sequence[str],
    index: SessionIndex,
    *,
    mapping: str = "canonical",
) -> bytes:
    """The school's marks as a CSV file in a shipped mapping's layout (one row per marked
    session in the canonical layout)."""
    from casework.registers.csv_marks import load_mapping, write_csv

    del school  # the canonical layout names pupils by UPN only; kept for a uniform signature
    return write_csv(mark_rows(pupils, marks, index), load_mapping(mapping))


def daily_marks(
    index: SessionIndex,
    pupils: Sequence[SyntheticPupil],
    day: date,
    *,
    seed: int | None = None,
    marks: Sequence[str] | None = None,
) -> list[MarkRow]:
    """One day's AM and PM marks for every pupil (``line`` is the item number from 1, as in a
    JSON push). The marks are the ``day`` columns of the full-year registers
    (``generate_marks(index, pupils, seed=seed)``, or ``marks`` when given), so pushing every
    day of the year in turn rebuilds those registers exactly. A day the school is closed gives
    no rows."""
    if marks is None:
        if seed is None:
            raise ValueError("daily_marks needs a seed or the year's marks")
        marks = generate_marks(index, pupils, seed=seed)
    at = [(s, i) for i, (d, s) in enumerate(index.sessions) if d == day]
    rows: list[MarkRow] = []
    for pupil, chars in zip(pupils, marks, strict=True):
        for session, i in at:
            char = chars[i]
            if char != NO_MARK:
                rows.append(MarkRow(len(rows) + 1, pupil.upn, day, session, CHAR_TO_CODE[char]))
    return rows


# --- a county ---------------------------------------------------------------------------------


@dataclass
class CountySummary:
    """What :func:`write_county` wrote and what the registers measure."""

    out_dir: Path
    academic_year: int
    as_at: date | None
    schools: int = 0
    pupils: int = 0
    files: list[Path] = field(default_factory=list)
    bytes_written: int = 0
    realised: Realised = field(default_factory=Realised)
    targets: AbsenceTargets = NATIONAL_2023_24


def write_county(
    out_dir: str | Path,
    schools: Sequence[SyntheticSchool],
    pupils_per_school: int | Sequence[int],
    seed: int,
    as_at: date | None,
    formats: Collection[str] = FORMATS,
    *,
    academic_year: int | None = None,
    targets: AbsenceTargets = NATIONAL_2023_24,
    dest: tuple[str, str] | None = None,
    on_school: Callable[[SyntheticSchool, int], None] | None = None,
) -> CountySummary:
    """Generate every school's pupils and registers and write one file per school and format
    into ``out_dir`` (CTF named by :func:`~casework.registers.ctf.ctf_file_name`, CSV
    ``<LA><estab>_marks.csv`` in the canonical layout).

    Absence rates are drawn over the whole county at once, so the county is calibrated as a
    whole and phases differ as they do nationally. ``academic_year`` defaults to the one
    ``as_at`` falls in. ``on_school(school, pupils)`` is called after each school's files are
    written (for a progress bar).
    """
    unknown = set(formats) - FORMATS
    if unknown or not formats:
        raise ValueError(f"formats are {sorted(FORMATS)}, not {sorted(unknown) or 'none'}")
    if academic_year is None:
        if as_at is None:
            raise ValueError("give academic_year or as_at")
        academic_year = academic_year_of(as_at)
    if len({(s.la_number, s.estab) for s in schools}) != len(schools):
        raise ValueError("two schools share an LA and establishment number (UPNs would clash)")
    sizes = (
        [pupils_per_school] * len(schools)
        if isinstance(pupils_per_school, int)
        else list(pupils_per_school)
    )
    if len(sizes) != len(schools):
        raise ValueError(f"{len(sizes)} sizes for {len(schools)} schools")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = CountySummary(out, academic_year, as_at, targets=targets)

    rolls = [
        make_pupils(school, n, academic_year=academic_year, seed=seed)
        for school, n in zip(schools, sizes, strict=True)
    ]
    everyone = [p for roll in rolls for p in roll]
    rates = absence_rates(everyone, seed=seed, targets=targets)
    indexes: dict[int, SessionIndex] = {}
    generated_at = datetime.now().replace(microsecond=0)
    begin = 0
    for number, (school, roll) in enumerate(zip(schools, rolls, strict=True)):
        index = indexes.get(id(school.calendar))
        if index is None:
            index = indexes[id(school.calendar)] = session_index(school.calendar, academic_year)
        marks = generate_marks(
            index,
            roll,
            seed=seed * 100_003 + number,
            as_at=as_at,
            targets=targets,
            rates=rates[begin : begin + len(roll)],
        )
        begin += len(roll)
        if "ctf" in formats:
            from casework.registers.ctf import ctf_file_name

            dest_la, dest_estab = _dest(school, dest)
            name = ctf_file_name(school.la_number, school.estab, dest_la, dest_estab, 1)
            data = write_school_ctf(
                school,
                roll,
                marks,
                index,
                academic_year=academic_year,
                dest=dest,
                generated_at=generated_at,
            )
            summary.bytes_written += _write(out / name, data, summary.files)
        if "csv" in formats:
            data = write_school_csv(school, roll, marks, index)
            name = f"{school.la_number}{school.estab}_marks.csv"
            summary.bytes_written += _write(out / name, data, summary.files)
        summary.realised = summary.realised + measure(marks)
        summary.schools += 1
        summary.pupils += len(roll)
        if on_school is not None:
            on_school(school, len(roll))
    return summary


def _write(path: Path, data: bytes, files: list[Path]) -> int:
    path.write_bytes(data)
    files.append(path)
    return len(data)
