"""CSV register files: session marks read through a named column mapping (pure; no database).

DATA-FORMATS.md §3.5: no public column specification was found for SIMS, Arbor or Bromcom
attendance exports, so which column holds what is configuration, never code. Mappings live in
``config/csv_mappings/<name>.toml``, and a school can load its own mapping file instead:

- ``canonical``: the service's own documented format, ``upn,date,session,code``, ISO dates.
- ``wide``: one row per pupil per day, ``upn,date,am,pm``.
- ``sims``, ``arbor``, ``bromcom``: starting points for a report an attendance officer can build
  in that MIS. Each file says the column names are not from any published specification.

:func:`parse_csv` gives :class:`MarkRow` records and a :class:`Problem` for each broken rule;
:class:`FileRejected` when the file cannot be read at all. The importer checks the marks against
pupils, enrolments and calendars. :func:`write_csv` writes the same layouts (synthetic data).
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

import msgspec

import config
from casework.errors import InvalidInput
from casework.registers.codes import CODES, IN_FORCE_FROM, LEGACY, classify
from casework.registers.marks import AM, PM, session_name
from casework.registers.records import FileRejected, MarkRow, Problem
from casework.upn import ALPHABET, upn_problem

MAPPING_DIR = Path(config.__file__).parent / "csv_mappings"
# Days that tell a format's day from its month and catch a format missing a field.
_SAMPLE_DAYS = (date(2024, 1, 2), date(2024, 2, 1), date(2025, 12, 31), date(2023, 9, 4))
_EXAMPLE_DAY = date(2024, 9, 30)

# Fast path for permanent UPNs (speed: 250,000 distinct pupils a day): the check letter's weighted
# sum (casework.upn.check_letter, positions 2-13) taken four digits at a time from tables.
# Anything this does not accept goes to upn_problem, which has the last word and the message.
_WEIGHT_TABLES = tuple(
    [sum(int(c) * (p + i) for i, c in enumerate(f"{n:04d}")) for n in range(10_000)]
    for p in (2, 6, 10)
)


def _permanent_upn_ok(upn: str) -> bool:
    body = upn[1:]
    if len(body) != 12 or not body.isdigit() or not body.isascii():
        return False
    t0, t1, t2 = _WEIGHT_TABLES
    total = t0[int(body[:4])] + t1[int(body[4:8])] + t2[int(body[8:])]
    return upn[0] == ALPHABET[total % 23]


class MappingInvalid(ValueError):
    """A CSV mapping file breaks a rule; the message names the file, key and rule."""


class Columns(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Which header holds each field. One-row-per-session files set ``session`` and ``code``;
    wide files (one row per pupil per day) set ``am_code`` and ``pm_code`` instead."""

    upn: str
    date: str
    session: str | None = None
    code: str | None = None
    am_code: str | None = None
    pm_code: str | None = None
    surname: str | None = None  # allowed so a school's report can keep them; never imported
    forename: str | None = None


class CsvMapping(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How one CSV layout says ``(upn, date, session, code)``. Checked when built."""

    name: str
    description: str
    columns: Columns
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    # Session text -> "AM"/"PM"; matched case-insensitively with surrounding spaces ignored.
    sessions: dict[str, str] = msgspec.field(default_factory=lambda: {"AM": "AM", "PM": "PM"})
    delimiter: str = ","
    # The MIS's own sub-codes -> national codes (for example X01 -> X). Only the school's choice.
    code_aliases: dict[str, str] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = _mapping_problems(self)
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def wide(self) -> bool:
        return self.columns.am_code is not None

    def mark_columns(self) -> dict[str, str]:
        """Canonical field -> header, for the columns a file must have."""
        c = self.columns
        names = ("upn", "date", *(("am_code", "pm_code") if self.wide else ("session", "code")))
        return {n: getattr(c, n) for n in names}


def _norm(text: str) -> str:
    return text.strip().casefold()


def _mapping_problems(m: CsvMapping) -> list[str]:
    out: list[str] = []
    if not m.name.strip():
        out.append("name: must not be empty")
    if not m.description.strip():
        out.append("description: say where the columns come from and who checked them")
    c = m.columns
    long_set = (c.session is not None, c.code is not None)
    wide_set = (c.am_code is not None, c.pm_code is not None)
    if not (all(long_set) and not any(wide_set)) and not (all(wide_set) and not any(long_set)):
        out.append(
            "columns: set session and code (one row per session) or am_code and pm_code "
            "(one row per pupil per day), not both and not part of either"
        )
    headers: dict[str, str] = {}
    for key in Columns.__struct_fields__:
        header = getattr(c, key)
        if header is None:
            continue
        if not header.strip():
            out.append(f"columns.{key}: a column name must not be empty")
        elif _norm(header) in headers:
            out.append(f"columns.{key}: {header!r} is also columns.{headers[_norm(header)]}")
        else:
            headers[_norm(header)] = key
    out += _date_format_problems(m.date_formats)
    read: dict[str, str] = {}
    for text, value in m.sessions.items():
        key = f"sessions.{text!r}"
        if not text.strip():
            out.append(f"{key}: a session text must not be empty")
            continue
        try:
            name = session_name(value)
        except InvalidInput:
            out.append(f"{key}: {value!r} is not AM or PM")
            continue
        if read.setdefault(_norm(text), name) != name:
            out.append(f"{key}: the same text (ignoring case) is read as both AM and PM")
    if not m.wide and set(read.values()) != {AM, PM}:
        out.append("sessions: name at least one text for AM and one for PM")
    if len(m.delimiter) != 1 or m.delimiter in '"\r\n' or m.delimiter.isalnum():
        out.append(f"delimiter: {m.delimiter!r} is not one character such as , ; | or a tab")
    for alias, code in m.code_aliases.items():
        key = f"code_aliases.{alias!r}"
        if not alias.strip() or alias.strip().upper() in CODES or alias.strip().upper() in LEGACY:
            out.append(f"{key}: an alias must be the MIS's own code, not empty or a national one")
        try:
            classify(code, on=date(2000, 1, 1))  # accepts the legacy codes too
        except InvalidInput as exc:
            out.append(f"{key}: {exc.problems[0].rule}")
    return out


def _date_format_problems(formats: tuple[str, ...]) -> list[str]:
    if not formats:
        return ["date_formats: name at least one, such as '%Y-%m-%d' or '%d/%m/%Y'"]
    out = []
    for i, fmt in enumerate(formats):
        try:
            ok = all(datetime.strptime(d.strftime(fmt), fmt).date() == d for d in _SAMPLE_DAYS)
        except ValueError:
            ok = False
        if not ok:
            out.append(f"date_formats[{i}]: {fmt!r} does not read back the day, month and year")
            continue
        for j, other in enumerate(formats[:i]):
            for d in _SAMPLE_DAYS:
                try:
                    clash = datetime.strptime(d.strftime(fmt), other).date() != d
                except ValueError:
                    clash = False
                if clash:
                    out.append(
                        f"date_formats[{i}]: {fmt!r} writes {d.strftime(fmt)} for {d.isoformat()}, "
                        f"which date_formats[{j}] {other!r} reads as another day"
                    )
                    break
    return out


# --- loading --------------------------------------------------------------------------------


def mapping_names() -> list[str]:
    """The mappings shipped in ``config/csv_mappings``."""
    return sorted(p.stem for p in MAPPING_DIR.glob("*.toml"))


def load_mapping(name_or_path: str | Path) -> CsvMapping:
    """A shipped mapping by name (``"canonical"``), or a school's own mapping file by path.

    Raises :class:`MappingInvalid` naming the file, the key and the rule broken.
    """
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(name_or_path)
    else:
        path = MAPPING_DIR / f"{text}.toml"
        if not path.is_file():
            known = ", ".join(mapping_names())
            raise MappingInvalid(f"no CSV mapping named {text!r}: the shipped ones are {known}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingInvalid(f"CSV mapping file {path} cannot be read: {exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingInvalid(f"CSV mapping file {path} is not valid TOML: {exc}") from exc
    try:
        return msgspec.convert(raw, CsvMapping)
    except msgspec.ValidationError as exc:
        raise MappingInvalid(f"CSV mapping file {path} is invalid: {exc}") from exc


# --- reading --------------------------------------------------------------------------------


def _decode(data: bytes, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise FileRejected.one(
            "file", len(data), f"the file is {len(data):,} bytes; the limit is {max_bytes:,}"
        )
    bom = 3 if data[:3] == b"\xef\xbb\xbf" else 0
    try:
        text = bytes(data[bom:]).decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = bom + exc.start
        line = data.count(b"\n", 0, offset) + 1
        raise FileRejected.one(
            "file",
            data[offset : offset + 1].hex(),
            f"the file is not UTF-8 (byte {offset}, line {line}): save it as CSV UTF-8",
            line=line,
        ) from None
    if not text.strip():
        raise FileRejected.one("file", "", "the file is empty")
    return text


def _header_positions(header: list[str], mapping: CsvMapping) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, cell in enumerate(header):
        found.setdefault(_norm(cell), i)
    required = mapping.mark_columns()
    for field, h in required.items():
        if sum(_norm(cell) == _norm(h) for cell in header) > 1:
            raise FileRejected.one(
                "header", h, f"the column {h!r} ({field}) appears more than once", line=1
            )
    missing = [h for h in required.values() if _norm(h) not in found]
    if missing:
        raise FileRejected.one(
            "header",
            ", ".join(header),
            f"missing column(s) {', '.join(map(repr, missing))}; the file's columns are "
            f"{', '.join(repr(c.strip()) for c in header)}; the {mapping.name} mapping needs "
            f"{', '.join(map(repr, required.values()))} (case and spaces ignored)",
            line=1,
        )
    return {field: found[_norm(h)] for field, h in required.items()}


def parse_csv(
    data: bytes, mapping: CsvMapping, *, max_bytes: int = 500_000_000
) -> tuple[list[MarkRow], list[Problem]]:
    """The marks in a CSV file and a :class:`Problem` for each bad row (line 1 is the header).

    Raises :class:`FileRejected` when the file is too big, empty, not UTF-8, not CSV, or lacks a
    column the mapping needs. An identical repeated mark is kept once; a repeat with another
    code is a problem naming both lines.
    """
    text = _decode(data, max_bytes)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
    try:
        header = next(reader)
        at = _header_positions(header, mapping)
        return _read_rows(reader, at, mapping)
    except csv.Error as exc:
        raise FileRejected.one(
            "file", None, f"not readable as CSV: {exc}", line=reader.line_num
        ) from None


class _Reader(Protocol):
    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...


def _read_rows(
    reader: _Reader, at: dict[str, int], mapping: CsvMapping
) -> tuple[list[MarkRow], list[Problem]]:
    columns = mapping.mark_columns()
    sessions = {_norm(k): session_name(v) for k, v in mapping.sessions.items()}
    aliases = {k.strip().upper(): v.strip().upper() for k, v in mapping.code_aliases.items()}
    formats = mapping.date_formats
    examples = " or ".join(_EXAMPLE_DAY.strftime(f) for f in formats)
    session_list = ", ".join(repr(k) for k in mapping.sessions)
    width = max(at.values()) + 1
    i_upn, i_date = at["upn"], at["date"]
    if mapping.wide:
        code_cells = [("am_code", AM, at["am_code"]), ("pm_code", PM, at["pm_code"])]
        i_session = -1
    else:
        code_cells = [("code", "", at["code"])]
        i_session = at["session"]

    # Caches keyed by the cell as written: a day's file repeats a few dates, sessions and codes
    # across every pupil. Codes are cached per side of 19 August 2024 (legacy codes end there).
    days: dict[str, tuple[date | None, bool]] = {}
    session_of: dict[str, str] = {}
    code_caches: dict[bool, dict[str, tuple[str, str | None]]] = {True: {}, False: {}}
    upn_seen: dict[str, str | None] = {}
    marks: dict[tuple[str, date, str], MarkRow] = {}
    rows: list[MarkRow] = []
    problems: list[Problem] = []
    add = problems.append
    line_num = reader.line_num

    def missing(line: int, field: str) -> None:
        add(Problem(line, field, "", f"missing value: the {columns[field]!r} column is empty"))

    def code_of(cell: str, before: bool) -> tuple[str, str | None]:
        norm = cell.strip().upper()
        code = aliases.get(norm, norm)
        if not code:
            return "", None
        try:
            classify(code, on=date(2000, 1, 1) if before else IN_FORCE_FROM)
        except InvalidInput as exc:
            rule = exc.problems[0].rule
            if code != norm:
                rule += f" ({norm} is read as {code} through the mapping's code_aliases)"
            return code, rule
        return code, None

    session = ""
    for record in reader:
        line = line_num + 1
        line_num = reader.line_num
        if len(record) < width:
            if not any(c.strip() for c in record):
                continue  # a blank line
            record = record + [""] * (width - len(record))
        ok = True

        raw_upn = record[i_upn].strip()
        upn = raw_upn.upper()
        if not upn:
            missing(line, "upn")
            ok = False
        elif not _permanent_upn_ok(upn):
            if upn in upn_seen:
                why = upn_seen[upn]
            else:
                if len(upn_seen) > 10_000:  # small: temporary and bad UPNs are few
                    upn_seen.clear()
                why = upn_seen[upn] = upn_problem(upn)
            if why:
                add(Problem(line, "upn", raw_upn, why))
                ok = False

        raw_date = record[i_date]
        known = days.get(raw_date)
        if known is None:
            parsed = _parse_date(raw_date.strip(), formats)
            # Without a date, check only that the code exists (legacy codes allowed).
            known = days[raw_date] = (parsed, parsed is None or parsed < IN_FORCE_FROM)
        day, before = known
        if day is None:
            if raw_date.strip():
                rule = f"not a date in the form {examples} (the {mapping.name} mapping)"
                add(Problem(line, "date", raw_date.strip(), rule))
            else:
                missing(line, "date")
            ok = False
        codes = code_caches[before]

        if i_session >= 0:
            raw_session = record[i_session]
            session = session_of.get(raw_session, "")
            if not session:
                session = session_of[raw_session] = sessions.get(_norm(raw_session), "")
            if not session:
                if raw_session.strip():
                    rule = f"not a session the {mapping.name} mapping knows: use {session_list}"
                    add(Problem(line, "session", raw_session.strip(), rule))
                else:
                    missing(line, "session")
                ok = False

        for field, fixed_session, i_code in code_cells:
            cell = record[i_code]
            found = codes.get(cell)
            if found is None:
                found = codes[cell] = code_of(cell, before)
            code, rule = found
            if not code:
                if not fixed_session:  # wide layout: a blank cell is no mark for that session
                    missing(line, field)
                continue
            if rule:
                add(Problem(line, field, cell.strip(), rule))
                continue
            if not ok:
                continue
            if fixed_session:
                session = fixed_session
            assert day is not None
            mark = (upn, day, session)
            first = marks.get(mark)
            if first is None:
                marks[mark] = row = MarkRow(line, upn, day, session, code)
                rows.append(row)
            elif first.code != code:
                add(
                    Problem(
                        line,
                        field,
                        cell.strip(),
                        f"line {first.line} gives {first.code} for {upn} on {day.isoformat()} "
                        f"{session} and line {line} gives {code}: a session has one mark",
                    )
                )
    return rows, problems


def _parse_date(text: str, formats: tuple[str, ...]) -> date | None:
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    return None


# --- writing --------------------------------------------------------------------------------


def write_csv(rows: Iterable[MarkRow], mapping: CsvMapping) -> bytes:
    """A UTF-8 CSV file of ``rows`` in ``mapping``'s layout (wide: AM and PM of the same pupil
    and day share a row). Written with the first date format and session texts."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=mapping.delimiter)
    writer.writerow(mapping.mark_columns().values())
    fmt = mapping.date_formats[0]
    days: dict[date, str] = {}

    def day_text(day: date) -> str:
        if day not in days:
            days[day] = day.strftime(fmt)
        return days[day]

    if mapping.wide:
        by_day: dict[tuple[str, date], dict[str, str]] = {}
        for r in rows:
            by_day.setdefault((r.upn, r.day), {})[r.session] = r.code
        writer.writerows(
            (upn, day_text(day), got.get(AM, ""), got.get(PM, ""))
            for (upn, day), got in by_day.items()
        )
    else:
        text_of: dict[str, str] = {}
        for text, value in mapping.sessions.items():
            text_of.setdefault(session_name(value), text)
        writer.writerows((r.upn, day_text(r.day), text_of[r.session], r.code) for r in rows)
    return out.getvalue().encode("utf-8")
