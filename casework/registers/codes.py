"""National attendance codes in force from 19 August 2024, and the legacy codes they replaced.

Sources (the project's reference notes, not copied code):

- ``/work/shared/reference/RULES.md`` §1.3: the per-code table (meaning, group, possible session,
  statistical class) for the School Attendance (Pupil Registration) (England) Regulations 2024,
  reg 10 tables, and the note that H, single Y and J are inactive from August 2024.
- ``/work/shared/reference/DATA-FORMATS.md`` §3.1: the grouping table and the retired codes to map
  when importing history (H, J, single Y; F discontinued in 2014 and merged into H; the 2020/21 to
  2021/22 coronavirus meaning of X; D not a possible session since September 2011).

Case: the national set is written in upper case plus ``/``, ``\\`` and ``#``. A code is read by
stripping surrounding whitespace and upper-casing letters, so ``"y1"`` reads as ``Y1`` and ``"l"``
as ``L``. No national code differs from another only by case, so this loses nothing; the symbols
``/``, ``\\`` and ``#`` are unaffected. Anything else (``"Y 1"``, ``"|"``, ``""``) is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from casework.errors import InvalidInput

# The 2024 Regulations' code set applies to sessions on or after this date (RULES.md §1.3 heading).
IN_FORCE_FROM = date(2024, 8, 19)


class StatClass(StrEnum):
    """How a session counts in DfE attendance statistics."""

    PRESENT = "present"
    APPROVED_EDUCATIONAL_ACTIVITY = "approved_educational_activity"
    AUTHORISED_ABSENCE = "authorised_absence"
    UNAUTHORISED_ABSENCE = "unauthorised_absence"
    NOT_POSSIBLE = "not_possible"


ABSENCE_CLASSES = frozenset({StatClass.AUTHORISED_ABSENCE, StatClass.UNAUTHORISED_ABSENCE})
ATTENDANCE_CLASSES = frozenset({StatClass.PRESENT, StatClass.APPROVED_EDUCATIONAL_ACTIVITY})

# Groups, as RULES.md §1.3 names them.
PRESENT = "Present"
OTHER_PLACE = "Attending a place other than the school"
LEAVE = "Leave of absence"
OTHER_AUTHORISED = "Other authorised absence"
UNAVOIDABLE = "Unable to attend due to unavoidable causes"
UNAUTHORISED = "Unauthorised absence"
ADMINISTRATIVE = "Administrative"
LEGACY_GROUP = "Legacy code (inactive from 19 August 2024)"


@dataclass(frozen=True)
class AttendanceCode:
    """One register code and how it counts.

    ``legacy_code`` is set only on what :func:`classify` returns for a pre-2024 code: it names the
    code as recorded, while ``code`` is the 2024 code it is imported as (or the legacy code itself
    when there is no 2024 equivalent) and ``stat_class`` stays the historic class.
    """

    code: str
    meaning: str
    group: str
    possible_session: bool
    stat_class: StatClass
    new_in_2024: bool = False
    legacy_code: str | None = None


def _code(
    code: str,
    meaning: str,
    group: str,
    possible: bool,
    stat: StatClass,
    *,
    new: bool = False,
) -> tuple[str, AttendanceCode]:
    return code, AttendanceCode(code, meaning, group, possible, stat, new)


_P = StatClass.PRESENT
_AEA = StatClass.APPROVED_EDUCATIONAL_ACTIVITY
_AUTH = StatClass.AUTHORISED_ABSENCE
_UNAUTH = StatClass.UNAUTHORISED_ABSENCE
_NP = StatClass.NOT_POSSIBLE

# RULES.md §1.3, row by row, in the table's order.
#
# [UNCONFIRMED-detail] X, Q and Y1-Y7 are "not a possible session". RULES.md marks these choices
# as unconfirmed for the 2024 set: they follow the long-standing DfE rule that "attendance not
# required" codes do not count, which https://faq.scomis.org/kb24890/ confirms for the pre-2024
# D, #, Y, X and Z. DATA-FORMATS.md §3.1 also lists Q, X and Y1-Y7 as "excluded from possible
# sessions". Check against the DfE "Working together to improve school attendance" (Aug 2024) table.
#
# new_in_2024: RULES.md marks K, C1, J1, C2 and Q as new. Y1-Y7 are also flagged new here: they
# replaced the single pre-2024 Y (RULES.md §1.3 notes), though the table does not say "New" on them.
CODES: dict[str, AttendanceCode] = dict(
    [
        _code("/", "Present at morning registration", PRESENT, True, _P),
        _code("\\", "Present at afternoon registration", PRESENT, True, _P),
        _code("L", "Late, arrived before the register closed", PRESENT, True, _P),
        _code(
            "K",
            "Attending education provision arranged by the local authority",
            OTHER_PLACE,
            True,
            _AEA,
            new=True,
        ),
        _code(
            "V",
            "Attending an educational visit or trip arranged and supervised by the school",
            OTHER_PLACE,
            True,
            _AEA,
        ),
        _code("P", "Participating in an approved sporting activity", OTHER_PLACE, True, _AEA),
        _code("W", "Attending work experience", OTHER_PLACE, True, _AEA),
        _code(
            "B",
            "Attending any other approved, supervised educational activity (not remote education)",
            OTHER_PLACE,
            True,
            _AEA,
        ),
        _code(
            "D",
            "Dual registered: attending the other school at which the pupil is registered",
            OTHER_PLACE,
            False,
            _NP,
        ),
        _code(
            "C1",
            "Leave of absence for a regulated performance or regulated employment abroad",
            LEAVE,
            True,
            _AUTH,
            new=True,
        ),
        _code("M", "Leave of absence for a medical or dental appointment", LEAVE, True, _AUTH),
        _code(
            "J1",
            "Leave of absence for an interview for employment or further education",
            LEAVE,
            True,
            _AUTH,
            new=True,
        ),
        _code("S", "Study leave for public examinations", LEAVE, True, _AUTH),
        # [UNCONFIRMED-detail] not a possible session.
        _code(
            "X",
            "Pupil of non-compulsory school age not required to attend",
            LEAVE,
            False,
            _NP,
        ),
        _code(
            "C2",
            "Pupil of compulsory school age on a temporary part-time timetable",
            LEAVE,
            True,
            _AUTH,
            new=True,
        ),
        _code("C", "Leave of absence for exceptional circumstances", LEAVE, True, _AUTH),
        _code(
            "T",
            "Parent travelling for occupational purposes (mobile or traveller family)",
            OTHER_AUTHORISED,
            True,
            _AUTH,
        ),
        _code("R", "Day set apart for religious observance", OTHER_AUTHORISED, True, _AUTH),
        _code("I", "Illness (not medical or dental appointments)", OTHER_AUTHORISED, True, _AUTH),
        _code(
            "E",
            "Suspended or permanently excluded, and no alternative provision made",
            OTHER_AUTHORISED,
            True,
            _AUTH,
        ),
        # [UNCONFIRMED-detail] Q and Y1-Y7: not possible sessions.
        _code(
            "Q",
            "Unable to attend because the local authority has not made access arrangements "
            "(for example, transport)",
            UNAVOIDABLE,
            False,
            _NP,
            new=True,
        ),
        _code(
            "Y1",
            "Unable to attend: transport normally provided is not available",
            UNAVOIDABLE,
            False,
            _NP,
            new=True,
        ),
        _code(
            "Y2",
            "Unable to attend: widespread disruption to travel from a local, national or "
            "international emergency",
            UNAVOIDABLE,
            False,
            _NP,
            new=True,
        ),
        _code(
            "Y3",
            "Unable to attend: part of the school premises unavoidably closed",
            UNAVOIDABLE,
            False,
            _NP,
            new=True,
        ),
        _code(
            "Y4",
            "Unable to attend: whole school site unexpectedly closed",
            UNAVOIDABLE,
            False,
            _NP,
            new=True,
        ),
        _code(
            "Y5",
            "Unable to attend: in criminal justice detention",
            UNAVOIDABLE,
            False,
            _NP,
            new=True,
        ),
        _code(
            "Y6",
            "Unable to attend: public health guidance or law",
            UNAVOIDABLE,
            False,
            _NP,
            new=True,
        ),
        _code(
            "Y7",
            "Unable to attend: any other unavoidable cause",
            UNAVOIDABLE,
            False,
            _NP,
            new=True,
        ),
        _code("G", "Holiday not granted by the school", UNAUTHORISED, True, _UNAUTH),
        _code(
            "N",
            "Reason for absence not yet established (replace once the reason is known)",
            UNAUTHORISED,
            True,
            _UNAUTH,
        ),
        _code("O", "Absent in other or unknown circumstances", UNAUTHORISED, True, _UNAUTH),
        _code("U", "Arrived after the register closed", UNAUTHORISED, True, _UNAUTH),
        _code(
            "Z",
            "Prospective pupil, not yet on the admission register",
            ADMINISTRATIVE,
            False,
            _NP,
        ),
        _code("#", "Planned whole or partial school closure", ADMINISTRATIVE, False, _NP),
    ]
)


@dataclass(frozen=True)
class LegacyCode:
    """A code inactive from 19 August 2024, still readable in history.

    ``maps_to`` is the 2024 code it is imported as, or None when there is no single 2024
    equivalent. Either way the historic ``stat_class`` and ``possible_session`` are kept, so
    historic statistics do not change on import. ``instead`` completes the refusal message for a
    session dated on or after 19 August 2024.
    """

    code: str
    meaning: str
    possible_session: bool
    stat_class: StatClass
    maps_to: str | None
    instead: str
    source: str


LEGACY: dict[str, LegacyCode] = {
    # RULES.md §1.3 notes and DATA-FORMATS.md §3.1: H inactive from Aug 2024; term-time holidays
    # for service children now use C. Historic class: authorised absence (the "sess_auth_holiday"
    # census column, DATA-FORMATS.md §3.2). Imported as C, the nearest 2024 authorised leave.
    "H": LegacyCode(
        "H",
        "Agreed family holiday (authorised)",
        True,
        StatClass.AUTHORISED_ABSENCE,
        "C",
        "use C for exceptional leave, or G for a holiday not granted",
        "RULES.md §1.3 notes; DATA-FORMATS.md §3.1",
    ),
    # RULES.md §1.3 (J1 row): "was J, which counted as an approved activity". So J's historic class
    # is approved educational activity (attendance), not authorised absence as J1 is now. The
    # import maps the code to J1 but keeps the historic class.
    "J": LegacyCode(
        "J",
        "Interview (employment or further education)",
        True,
        StatClass.APPROVED_EDUCATIONAL_ACTIVITY,
        "J1",
        "use J1 for an interview",
        "RULES.md §1.3 (J1 row and notes); DATA-FORMATS.md §3.1",
    ),
    # DATA-FORMATS.md §3.1, citing the DfE absence methodology: F ("authorised absence due to
    # agreed extended family holiday") was discontinued from the spring 2014 census and combined
    # with H. The references give no exact last date for F, so it is accepted, like H, for any
    # date before 19 August 2024. Imported as C, as H is.
    "F": LegacyCode(
        "F",
        "Agreed extended family holiday (authorised)",
        True,
        StatClass.AUTHORISED_ABSENCE,
        "C",
        "use C for exceptional leave, or G for a holiday not granted",
        "DATA-FORMATS.md §3.1 (DfE absence methodology)",
    ),
    # RULES.md §1.3 notes: single Y inactive from Aug 2024. Not a possible session: RULES.md §1.3
    # preamble cites https://faq.scomis.org/kb24890/ for the pre-2024 Y. The meaning text is not
    # in the references (brief's wording). No 2024 equivalent: Y was split into Y1-Y7 and a
    # historic Y does not say which cause, so it is kept as Y.
    "Y": LegacyCode(
        "Y",
        "Unable to attend due to exceptional circumstances",
        False,
        StatClass.NOT_POSSIBLE,
        None,
        "use the Y1 to Y7 code for the unavoidable cause",
        "RULES.md §1.3 notes and preamble (SCOMIS kb24890)",
    ),
}
# Pre-2024 X is not listed: X is still in the 2024 set with the same meaning (non-compulsory
# school age, not required to attend) and the same class, so it classifies through CODES on any
# date. DATA-FORMATS.md §3.1 says X meant "not attending in circumstances related to coronavirus"
# in 2020/21-2021/22 and was then "not an absence, but a possible session"; that fits none of the
# five classes here, the references give no exact dates, and it is not modelled.


def _normalise(code: object) -> str:
    if not isinstance(code, str) or not code.strip():
        raise InvalidInput.one("code", code, "an attendance code must be a non-empty text value")
    return code.strip().upper()


def _legacy_view(legacy: LegacyCode) -> AttendanceCode:
    return AttendanceCode(
        code=legacy.maps_to or legacy.code,
        meaning=legacy.meaning,
        group=LEGACY_GROUP,
        possible_session=legacy.possible_session,
        stat_class=legacy.stat_class,
        new_in_2024=False,
        legacy_code=legacy.code,
    )


def _unknown(value: object) -> InvalidInput:
    return InvalidInput.one(
        "code",
        value,
        f"{value!r} is not a national attendance code; use one of "
        + " ".join(CODES)
        + " (School Attendance (Pupil Registration) (England) Regulations 2024)",
    )


def classify(code: str, *, on: date) -> AttendanceCode:
    """The code recorded for a session on ``on``, and how it counts.

    A 2024 code is accepted on any date. A legacy code (H, J, F, single Y) is accepted only for a
    session before 19 August 2024; it comes back as the 2024 code it is imported as (see
    :data:`LEGACY`) with its historic class kept and ``legacy_code`` set. Raises
    :class:`~casework.errors.InvalidInput` on field ``code`` otherwise.
    """
    value = code
    norm = _normalise(code)
    if norm in CODES:
        return CODES[norm]
    legacy = LEGACY.get(norm)
    if legacy is None:
        raise _unknown(value)
    day = on.date() if isinstance(on, datetime) else on
    if day >= IN_FORCE_FROM:
        raise InvalidInput.one(
            "code",
            value,
            f"{norm} is not in the 2024 national set: from 19 August 2024 {legacy.instead}",
        )
    return _legacy_view(legacy)


def _resolve(code: str | AttendanceCode) -> AttendanceCode:
    """A code without a date: a 2024 code, or a legacy code read with its historic class."""
    if isinstance(code, AttendanceCode):
        return code
    norm = _normalise(code)
    if norm in CODES:
        return CODES[norm]
    if norm in LEGACY:
        return _legacy_view(LEGACY[norm])
    raise _unknown(code)


def is_possible(code: str | AttendanceCode) -> bool:
    """Whether the session counts as a possible session.

    Takes a code (2024 or legacy, read with its historic class; use :func:`classify` to check it
    against a date) or what :func:`classify` returned.
    """
    return _resolve(code).possible_session


def is_absence(code: str | AttendanceCode) -> bool:
    """Whether the session is an absence (authorised or unauthorised)."""
    return _resolve(code).stat_class in ABSENCE_CLASSES


def is_unauthorised(code: str | AttendanceCode) -> bool:
    """Whether the session is an unauthorised absence."""
    return _resolve(code).stat_class is StatClass.UNAUTHORISED_ABSENCE


_UNAUTHORISED_CODES = tuple(c for c, e in CODES.items() if e.stat_class is _UNAUTH)


def counts_toward_threshold(code: str | AttendanceCode, counted_codes: Iterable[str]) -> bool:
    """Whether the session counts toward the Notice to Improve / penalty notice threshold.

    ``counted_codes`` is the LA profile's ``notice_to_improve.counted_codes`` (nationally G, N, O,
    U; whether N counts is [UNCONFIRMED] in RULES.md §2.1, so it is configurable). Every counted
    code must be a 2024 unauthorised-absence code, or :class:`~casework.errors.InvalidInput` is
    raised on field ``counted_codes``.
    """
    counted: set[str] = set()
    for raw in counted_codes:
        norm = raw.strip().upper() if isinstance(raw, str) else raw
        entry = CODES.get(norm) if isinstance(norm, str) else None
        if entry is None or entry.stat_class is not StatClass.UNAUTHORISED_ABSENCE:
            raise InvalidInput.one(
                "counted_codes",
                raw,
                f"{raw!r} cannot count toward the threshold: only 2024 unauthorised-absence codes "
                f"({', '.join(_UNAUTHORISED_CODES)}) can (RULES.md §2.1)",
            )
        counted.add(norm)
    resolved = _resolve(code)
    return resolved.stat_class is StatClass.UNAUTHORISED_ABSENCE and resolved.code in counted
