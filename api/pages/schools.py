"""The school page: the pupils whose attendance gives concern (below 95 %, persistently and
severely absent, at the penalty-notice threshold), open cases by stage, the school's calendar
this year, and the next targeting support meeting with the figures its invitation carries.

The groups are the daily scan's flags (``pupil_flag``: what the registers showed at the last
scan), read in one query and filtered by the user's scope, so a statutory officer sees only the
pupils of their cases while the counts stay the school's. A school outside the user's scope is
"Page not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy import func, select

from api.deps import unit_of_work
from api.pages.common import me, render
from casework import queries
from casework.analytics.flags import BELOW_95, PERSISTENT, SEVERE, THRESHOLD, flag_titles
from casework.analytics.totals import percent_text
from casework.calendars.model import OutsideCalendar, academic_year_of, long_date, year_label
from casework.models import Case, Pupil, PupilFlag, User
from casework.vocabulary import OPEN_STAGES, year_group
from workflows.context import Context
from workflows.policy import CASEWORK_ROLES
from workflows.reminders import TSM_AT, school_summary, term_of

# The groups, in the page's order: (flag, id of the section, what it means).
GROUPS: tuple[tuple[str, str, str], ...] = (
    (
        BELOW_95,
        "below-95",
        "Attendance below {below}% this year: a concern to monitor. Pupils in the groups below "
        "are in this one too.",
    ),
    (PERSISTENT, "persistent", "Absent for {persistent}% or more of their possible sessions."),
    (SEVERE, "severe", "Absent for {severe}% or more of their possible sessions this year."),
    (
        THRESHOLD,
        "threshold",
        "Enough unauthorised absence within the rolling window for a Notice to Improve or a "
        "penalty notice to be considered: {sessions} counted sessions within {weeks} school "
        "weeks.",
    ),
)


def caseload_link(school_id: int, stage: str) -> str:
    """The open cases of the school at a stage, on the caseload list."""
    return "/caseload?" + urlencode({"school": school_id, "stage": stage})


def next_tsm(today: date) -> date:
    """The next day the termly targeting support meeting invitations go out (TSM_AT: the Monday
    from the 8th to the 14th of January, April and September), today included."""
    months = {int(m) for m in str(TSM_AT["month"]).split(",")}
    first, last = (int(d) for d in str(TSM_AT["day"]).split("-"))
    day = today
    for _ in range(400):
        if day.month in months and first <= day.day <= last and day.weekday() == 0:
            return day
        day += timedelta(days=1)
    raise ValueError("no meeting day within a year")  # pragma: no cover


@dataclass(frozen=True)
class Row:
    pupil_id: int
    name: str
    year: str
    attendance: str
    figures: str
    since: date
    explanation: str
    case_id: int | None
    case_reference: str


def _figures(flag: str, figures: dict[str, Any]) -> tuple[str, str]:
    """The attendance rate and the figure the group turns on, from a flag's stored figures."""
    possible = figures.get("possible") or 0
    attended = figures.get("attended") or 0
    rate = percent_text(100 * attended / possible) if possible else "no possible sessions"
    if flag == THRESHOLD:
        count = figures.get("best_threshold_window", figures.get("count"))
        return rate, f"{count} counted sessions in the window" if count is not None else ""
    absent = possible - attended
    return rate, f"{attended} of {possible} attended, {absent} absent" if possible else ""


def flagged(ctx: Context, school_id: int) -> dict[str, list[Row]]:
    """The pupils in each group the user may see (one query), with their open case here."""
    found = ctx.session.execute(
        select(PupilFlag, Pupil)
        .join(Pupil, Pupil.id == PupilFlag.pupil_id)
        .where(
            PupilFlag.school_id == school_id,
            PupilFlag.flag.in_([flag for flag, _, _ in GROUPS]),
            ctx.scope.pupils(),
        )
        .order_by(Pupil.legal_surname, Pupil.legal_forename, Pupil.id)
    ).all()
    cases = {
        pupil_id: (case_id, reference)
        for case_id, pupil_id, reference in ctx.session.execute(
            select(Case.id, Case.pupil_id, Case.reference)
            .where(Case.school_id == school_id, Case.closed_at.is_(None), ctx.scope.cases())
            .order_by(Case.opened_at)
        )
    }
    groups: dict[str, list[Row]] = {flag: [] for flag, _, _ in GROUPS}
    for flag, pupil in found:
        rate, figures = _figures(flag.flag, flag.figures or {})
        case_id, reference = cases.get(pupil.id, (None, ""))
        groups[flag.flag].append(
            Row(
                pupil.id,
                pupil.display_name,
                year_group(pupil.nc_year),
                rate,
                figures,
                flag.raised_on,
                flag.explanation,
                case_id,
                reference,
            )
        )
    return groups


def cases_by_stage(ctx: Context, school_id: int) -> list[dict[str, Any]]:
    """Open cases at the school the user may see, counted by stage (every open stage listed)."""
    counts = dict(
        ctx.session.execute(
            select(Case.stage, func.count())
            .where(Case.school_id == school_id, Case.closed_at.is_(None), ctx.scope.cases())
            .group_by(Case.stage)
        ).all()
    )
    return [
        {
            "stage": stage.value,
            "label": stage.label,
            "count": counts.get(stage.value, 0),
            "href": caseload_link(school_id, stage.value),
        }
        for stage in OPEN_STAGES
    ]


def school_calendar_view(ctx: Context, school_id: int, today: date) -> dict[str, Any]:
    """This academic year's terms, INSET days, closures and bank holidays on the school's own
    calendar; ``error`` says why there is none."""
    year = academic_year_of(today)
    try:
        calendar = ctx.calendar_for(school_id)
        academic = calendar.year(year)
    except OutsideCalendar as exc:
        return {"label": year_label(year), "error": str(exc)}
    span = academic.span
    terms = [
        {
            "name": f"{term.name.capitalize()} term",
            "first": long_date(term.first),
            "last": long_date(term.last),
            "half_term": str(term.half_term) if term.half_term else "",
            "now": term.first <= today <= term.last,
        }
        for term in sorted(academic.terms, key=lambda t: t.first)
    ]
    insets = [
        {
            "day": long_date(i.day),
            "sessions": _sessions(i.sessions),
            "reason": i.reason,
            "past": i.day < today,
        }
        for i in calendar.inset_days_in(year)
    ]
    closures = [
        {
            "days": str(c.days),
            "sessions": _sessions(c.sessions),
            "reason": c.reason,
            "past": c.days.last < today,
        }
        for c in sorted(calendar.closures, key=lambda c: c.days.first)
        if c.days.overlaps(span)
    ]
    return {
        "label": academic.label,
        "provisional": academic.provisional,
        "terms": terms,
        "insets": insets,
        "closures": closures,
        "bank_holidays": [
            {"day": long_date(d), "name": name} for d, name in calendar.bank_holidays(year)
        ],
        "error": "",
    }


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _sessions(sessions) -> str:
    names = sorted(s.value.upper() for s in sessions)
    return "Whole day" if len(names) == 2 else " and ".join(names) + " only"


def school_list(ctx: Context) -> list[dict[str, Any]]:
    """Each school the user may see, with its open cases and its pupils in each flag group the
    user may see (two grouped queries, whatever the number of schools)."""
    schools = queries.schools(ctx.session, ctx.scope)
    cases = dict(
        ctx.session.execute(
            select(Case.school_id, func.count())
            .where(Case.closed_at.is_(None), ctx.scope.cases())
            .group_by(Case.school_id)
        ).all()
    )
    flags: dict[tuple[int, str], int] = {
        (school_id, flag): count
        for school_id, flag, count in ctx.session.execute(
            select(
                PupilFlag.school_id, PupilFlag.flag, func.count(func.distinct(PupilFlag.pupil_id))
            )
            .join(Pupil, Pupil.id == PupilFlag.pupil_id)
            .where(PupilFlag.flag.in_([flag for flag, _, _ in GROUPS]), ctx.scope.pupils())
            .group_by(PupilFlag.school_id, PupilFlag.flag)
        )
    }
    return [
        {
            "id": s.id,
            "name": s.name,
            "urn": s.urn,
            "phase": s.phase,
            "open_cases": cases.get(s.id, 0),
            "groups": [flags.get((s.id, flag), 0) for flag, _, _ in GROUPS],
        }
        for s in schools
    ]


class SchoolPages(Controller):
    path = "/schools"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def index(self, request: Request) -> Template:
        with unit_of_work(request) as ctx:
            ctx.require_role(*CASEWORK_ROLES, doing="see schools' attendance")
            titles = flag_titles(ctx.profile.analytics)
            context = {
                "me": me(ctx),
                "active_section": "schools",
                "schools": school_list(ctx),
                "group_titles": [titles.get(flag, flag) for flag, _, _ in GROUPS],
            }
        return render("schools.html", context)

    @get("/{school_id:int}", sync_to_thread=True)
    def show(self, request: Request, school_id: FromPath[int]) -> Template:
        with unit_of_work(request) as ctx:
            # Administrators manage users and settings and see no pupil records.
            ctx.require_role(*CASEWORK_ROLES, doing="see a school's attendance")
            school = queries.school(ctx.session, ctx.scope, school_id)
            today = ctx.today()
            officer = (
                ctx.session.get(User, school.traded_officer_id)
                if school.traded_officer_id
                else None
            )
            groups = flagged(ctx, school.id)
            rules = ctx.profile.analytics
            titles = flag_titles(rules)
            meeting = next_tsm(today)
            context = {
                "me": me(ctx),
                "active_section": "schools",
                "school": {
                    "id": school.id,
                    "name": school.name,
                    "urn": school.urn,
                    "phase": school.phase,
                    "traded": school.traded_service,
                    "officer": officer.full_name if officer is not None else "",
                    "lead": school.attendance_lead_name or "",
                    "lead_email": school.attendance_lead_email or "",
                    "lead_phone": school.attendance_lead_phone or "",
                },
                "groups": [
                    {
                        "flag": flag,
                        "id": anchor,
                        "title": titles.get(flag, flag),
                        "hint": hint.format(
                            below=_number(rules.concern_below_percent),
                            persistent=_number(rules.persistent_percent),
                            severe=_number(rules.severe_percent),
                            sessions=rules.threshold_sessions,
                            weeks=rules.threshold_school_weeks,
                        ),
                        "rows": groups[flag],
                    }
                    for flag, anchor, hint in GROUPS
                ],
                "stages": cases_by_stage(ctx, school.id),
                "calendar": school_calendar_view(ctx, school.id, today),
                "meeting": {
                    "day": meeting,
                    "term": term_of(meeting),
                    "summary": school_summary(ctx.session, school),
                },
                "today": today,
            }
        context["open_total"] = sum(s["count"] for s in context["stages"])
        return render("school.html", context)
