"""Synthetic schools and pupils (pure; no database): invented names, valid UPNs, characteristics
at roughly national prevalence.

Every pupil is invented: names are random combinations from :mod:`casework.synthetic.names`,
addresses are on invented streets with ``ZZ99`` pseudo-postcodes, telephone numbers are in Ofcom's
drama range and e-mail addresses at ``example.net``. UPNs are permanent UPNs with valid check
letters built from the school's LA and establishment numbers, the pupil's year of entry and a
serial (:func:`casework.upn.make_upn`), so they are unique within a run as long as each school has
its own establishment number.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, TypeVar

from casework.calendars.model import InsetDay, TermCalendar
from casework.registers.records import CtfAddress, CtfContact
from casework.synthetic.names import (
    BOYS,
    GIRLS,
    MEN,
    POSTCODE_LETTERS,
    PREFERRED,
    STREET_NAMES,
    STREET_TYPES,
    SURNAMES,
    TITLES,
    TOWNS,
    WOMEN,
)
from casework.upn import make_upn

T = TypeVar("T")
Phase = Literal["primary", "secondary", "special"]
PHASES: tuple[Phase, ...] = ("primary", "secondary", "special")

# National curriculum years each phase teaches (R = 0).
NC_YEARS: dict[str, tuple[int, ...]] = {
    "primary": tuple(range(0, 7)),
    "secondary": tuple(range(7, 12)),
    "special": tuple(range(1, 12)),
}

# Approximate prevalence of pupil characteristics, England, from the DfE's "Schools, pupils and
# their characteristics" and "Special educational needs in England" releases (January 2024
# census) and the children-in-need / looked-after statistics. These are rounded, approximate
# figures for synthetic data, not statistics to quote: FSM eligibility about 24 %, SEN support
# about 13 %, an EHC plan about 2.5 % of mainstream pupils and nearly all special-school pupils,
# looked after about 0.7 %, a social worker (child in need) about 3 %, young carer about 1 %,
# English as an additional language about 21 %.
PREVALENCE: dict[str, dict[str, float]] = {
    "primary": {"fsm": 0.24, "sen_support": 0.13, "ehc_plan": 0.025, "eal": 0.23},
    "secondary": {"fsm": 0.23, "sen_support": 0.13, "ehc_plan": 0.025, "eal": 0.18},
    # Special schools: almost every pupil has an EHC plan; FSM is about double the mainstream rate.
    "special": {"fsm": 0.45, "sen_support": 0.04, "ehc_plan": 0.94, "eal": 0.15},
}
LOOKED_AFTER = 0.007
SOCIAL_WORKER = 0.03  # includes looked-after children, who always have one
YOUNG_CARER = 0.01
BOYS_SHARE = {"primary": 0.51, "secondary": 0.51, "special": 0.70}  # approximate


@dataclass(frozen=True)
class SyntheticSchool:
    urn: str
    la_number: str  # 3 digits
    estab: str  # 4 digits
    name: str
    phase: Phase
    calendar: TermCalendar

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, not {self.phase!r}")
        if not (len(self.la_number) == 3 and self.la_number.isdigit()):
            raise ValueError(f"la_number {self.la_number!r} is not 3 digits")
        if not (len(self.estab) == 4 and self.estab.isdigit()):
            raise ValueError(f"estab {self.estab!r} is not 4 digits")


@dataclass(frozen=True, slots=True)
class SyntheticPupil:
    upn: str
    forename: str
    surname: str
    preferred_forename: str | None
    date_of_birth: date
    sex: str  # "M" or "F"
    nc_year: int  # R = 0
    phase: Phase  # of the pupil's school
    school_urn: str
    fsm: bool
    sen_support: bool
    ehc_plan: bool
    looked_after: bool
    social_worker: bool
    young_carer: bool
    eal: bool
    address: CtfAddress
    contacts: tuple[CtfContact, ...]


def birth_range(nc_year: int, academic_year: int) -> tuple[date, date]:
    """Dates of birth for a pupil in ``nc_year`` (R = 0) in the academic year starting in
    ``academic_year``: children start Reception in the September after they turn four, so an
    NC year is everyone born from 1 September to 31 August of one school-age cohort."""
    return date(academic_year - nc_year - 5, 9, 1), date(academic_year - nc_year - 4, 8, 31)


def nc_year_for(date_of_birth: date, academic_year: int) -> int:
    """The NC year (R = 0) a pupil born on ``date_of_birth`` is in, in ``academic_year``."""
    cohort = date_of_birth.year if date_of_birth.month >= 9 else date_of_birth.year - 1
    return academic_year - cohort - 5


def _pick(rng: random.Random, seq: Sequence[T]) -> T:
    """``rng.choice`` without its overhead (make_pupils runs for a whole county)."""
    return seq[int(rng.random() * len(seq))]


def _int(rng: random.Random, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` inclusive."""
    return low + int(rng.random() * (high - low + 1))


def _postcode(rng: random.Random) -> str:
    # ZZ99 is the NHS pseudo-postcode area for "not known": never a real delivery address.
    letters = POSTCODE_LETTERS
    return f"ZZ99 {_int(rng, 1, 9)}{_pick(rng, letters)}{_pick(rng, letters)}"


def _address(rng: random.Random) -> CtfAddress:
    street = f"{_int(rng, 1, 180)} {_pick(rng, STREET_NAMES)} {_pick(rng, STREET_TYPES)}"
    return CtfAddress((street,), _pick(rng, TOWNS), _postcode(rng))


def _phone(rng: random.Random) -> str:
    return f"07700 900{_int(rng, 0, 999):03d}"  # Ofcom drama range


def _contacts(rng: random.Random, surname: str, address: CtfAddress) -> tuple[CtfContact, ...]:
    roll = rng.random()
    if roll < 0.55:
        who = ["Mother", "Father"]
    elif roll < 0.85:
        who = ["Mother"]
    elif roll < 0.93:
        who = ["Father"]
    elif roll < 0.97:
        who = ["Mother", "Grandparent"]
    else:
        who = ["Carer"]
    out = []
    for order, relationship in enumerate(who, start=1):
        female = relationship == "Mother" or (relationship != "Father" and rng.random() < 0.6)
        forename = _pick(rng, WOMEN if female else MEN)
        title = _pick(rng, TITLES["Mother" if female else "Father"])
        # Most parents share the pupil's surname; some do not.
        own_surname = surname if rng.random() < 0.8 else _pick(rng, SURNAMES)
        lives_apart = order > 1 and rng.random() < 0.15
        out.append(
            CtfContact(
                line=0,
                order=order,
                title=title,
                surname=own_surname,
                forename=forename,
                relationship=relationship,
                responsibility=relationship != "Grandparent",
                address=_address(rng) if lives_apart else None,
                address_as_pupil=not lives_apart,
                phones=(_phone(rng),),
                email=(
                    f"{forename.lower()}.{own_surname.lower()}{_int(rng, 1, 99)}@example.net"
                    if rng.random() < 0.7
                    else None
                ),
            )
        )
    return tuple(out)


class _UpnSerials:
    """Serials for one school: a pupil's UPN uses the year they entered school; when that year's
    1,000 serials are used up the next earlier year is used (still a valid, unique UPN)."""

    def __init__(self, la_number: str, estab: str):
        self.la = int(la_number)
        self.estab = int(estab)
        self.next: dict[int, int] = {}

    def take(self, year: int) -> str:
        for back in range(100):
            y = (year - back) % 100
            serial = self.next.get(y, 0)
            if serial < 1000:
                self.next[y] = serial + 1
                return make_upn(self.la, self.estab, y, serial)
        raise ValueError("a school can have at most 100,000 synthetic UPNs")


def make_pupils(
    school: SyntheticSchool, n: int, *, academic_year: int, seed: int
) -> list[SyntheticPupil]:
    """``n`` invented pupils on roll at ``school`` in the academic year starting in
    ``academic_year``, spread evenly over the phase's NC years. The same arguments always give
    the same pupils."""
    if n < 0:
        raise ValueError("n must not be negative")
    rng = random.Random(f"pupils:{seed}:{school.urn}:{academic_year}")
    years = NC_YEARS[school.phase]
    prevalence = PREVALENCE[school.phase]
    serials = _UpnSerials(school.la_number, school.estab)
    pupils = []
    for i in range(n):
        nc_year = years[i * len(years) // n] if n else 0
        first, last = birth_range(nc_year, academic_year)
        dob = first + timedelta(days=_int(rng, 0, (last - first).days))
        boy = rng.random() < BOYS_SHARE[school.phase]
        forename = _pick(rng, BOYS if boy else GIRLS)
        surname = _pick(rng, SURNAMES)
        # SEN is identified more often in boys (roughly two to one); the factors keep the mean.
        # (Not in special schools, where nearly everyone has a plan.)
        sen_factor = 1.0 if school.phase == "special" else 1.3 if boy else 0.7
        ehc = rng.random() < prevalence["ehc_plan"] * sen_factor
        sen_support = not ehc and rng.random() < prevalence["sen_support"] * sen_factor
        looked_after = rng.random() < LOOKED_AFTER
        social_worker = looked_after or rng.random() < SOCIAL_WORKER - LOOKED_AFTER
        address = _address(rng)
        pupils.append(
            SyntheticPupil(
                upn=serials.take(academic_year - nc_year),
                forename=forename,
                surname=surname,
                preferred_forename=PREFERRED.get(forename) if rng.random() < 0.5 else None,
                date_of_birth=dob,
                sex="M" if boy else "F",
                nc_year=nc_year,
                phase=school.phase,
                school_urn=school.urn,
                fsm=rng.random() < prevalence["fsm"],
                sen_support=sen_support,
                ehc_plan=ehc,
                looked_after=looked_after,
                social_worker=social_worker,
                young_carer=rng.random() < YOUNG_CARER,
                eal=rng.random() < prevalence["eal"],
                address=address,
                contacts=_contacts(rng, surname, address),
            )
        )
    return pupils


# --- a county of schools ----------------------------------------------------------------------

# LA numbers with a calendar file of their own (config/calendars/<key>.toml); others use national.
CALENDAR_KEYS = {"340": "knowsley", "881": "essex"}
# Rough national shares of pupils by phase (state-funded, Reception to Year 11) and typical roll
# sizes, used only to lay out a synthetic county.
PHASE_PUPIL_SHARE = {"primary": 0.575, "secondary": 0.405, "special": 0.02}
ESTAB_BASE = {"primary": 2000, "secondary": 4000, "special": 7000}  # DfE numbering ranges


def la_term_calendar(la_number: str, school: str, calendar_key: str | None = None) -> TermCalendar:
    """``school``'s calendar from its LA's shipped file (no database): the LA's published years
    and the pattern for the rest, with no INSET days or closures of its own."""
    from casework.calendars.config_files import la_calendar

    shipped = la_calendar(calendar_key or CALENDAR_KEYS.get(la_number, "national"))
    return TermCalendar(school, shipped.years, pattern=shipped.pattern)


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _inset_days(calendar: TermCalendar, academic_year: int, variant: int) -> tuple[InsetDay, ...]:
    """Five INSET days at the usual places: the first two days of the year, then three of the
    days after a half-term or a break and the last day of the year, chosen by ``variant`` so
    schools in one LA do not all share one session index."""
    terms = sorted(calendar.year(academic_year).terms, key=lambda t: t.first)
    first = _weekday_on_or_after(terms[0].first)
    fixed = [first, _weekday_on_or_after(first + timedelta(days=1))]
    optional = [t.first for t in terms[1:]]
    optional += [t.half_term.last + timedelta(days=1) for t in terms if t.half_term is not None]
    optional = [_weekday_on_or_after(d) for d in optional] + [terms[-1].last]
    fixed = [d for d in fixed if calendar.is_school_day(d)]
    optional = sorted({d for d in optional if calendar.is_school_day(d)} - set(fixed))
    chosen = fixed + random.Random(f"inset:{variant}").sample(
        optional, min(len(optional), 5 - len(fixed))
    )
    return tuple(InsetDay(d, reason="INSET") for d in sorted(chosen))


def synthetic_schools(
    la_number: str,
    count: int,
    *,
    academic_year: int,
    calendar_key: str | None = None,
    inset_variants: int = 4,
) -> list[SyntheticSchool]:
    """``count`` invented schools ("Synthetic Primary 0001") in the LA: about 80 % primary, 15 %
    secondary and 4 % special, each on the LA's calendar plus five INSET days (one of
    ``inset_variants`` patterns; 0 for none)."""
    if count < 1:
        raise ValueError("a county needs at least one school")
    special = round(count * 0.04) if count >= 10 else 0
    secondary = max(1, round(count * 0.15)) if count >= 2 else 0
    primary = count - special - secondary
    phases: list[Phase] = ["primary"] * primary + ["secondary"] * secondary + ["special"] * special
    schools = []
    seen: dict[str, int] = {}
    for number, phase in enumerate(phases, start=1):
        within = seen[phase] = seen.get(phase, 0) + 1
        if within >= 1000:
            raise ValueError(f"at most 999 {phase} schools fit the establishment-number range")
        name = f"Synthetic {phase.capitalize()} {number:04d}"
        calendar = la_term_calendar(la_number, name, calendar_key)
        if inset_variants:
            insets = _inset_days(calendar, academic_year, number % inset_variants)
            calendar = calendar.replace(inset_days=insets)
        schools.append(
            SyntheticSchool(
                urn=f"{980000 + number}",
                la_number=la_number,
                estab=f"{ESTAB_BASE[phase] + within:04d}",
                name=name,
                phase=phase,
                calendar=calendar,
            )
        )
    return schools


def school_sizes(schools: Sequence[SyntheticSchool], pupils: int, *, seed: int) -> list[int]:
    """How many of ``pupils`` each school has: the phases' national shares (renormalised over the
    phases present), spread over each phase's schools with about +/-30 % variation; the sizes add
    up to ``pupils`` exactly."""
    rng = random.Random(f"sizes:{seed}")
    present = {s.phase for s in schools}
    total_share = sum(PHASE_PUPIL_SHARE[p] for p in present)
    weights = []
    for school in schools:
        same = sum(1 for s in schools if s.phase == school.phase)
        share = PHASE_PUPIL_SHARE[school.phase] / total_share / same
        weights.append(share * (0.7 + 0.6 * rng.random()))
    scale = pupils / sum(weights)
    raw = [w * scale for w in weights]
    sizes = [int(x) for x in raw]
    # Largest remainders get the pupils rounding left over.
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - sizes[i], reverse=True)[
        : pupils - sum(sizes)
    ]:
        sizes[i] += 1
    return sizes
