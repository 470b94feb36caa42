"""Caseload: every open case the user may see, filtered, sorted and paged, and its CSV export.

Queries select columns, not ORM objects, and a page reads at most a page of rows: the default
order (next deadline first) walks the open deadlines in date order through their index and stops
once it has the page's cases, so a manager's 100,000-case caseload costs what 50 cases cost. The
total is counted up to ``COUNT_CAP`` (a page says "more than 1,000" beyond it: counting a
statutory officer's scope to the end would cost more than the page).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Response, Template
from sqlalchemy import ColumnElement, and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from api.deps import unit_of_work
from api.pages.common import is_number, me, render
from casework.analytics.flags import flag_titles
from casework.models import Case, Pupil, PupilFlag, School, User, UserSchool
from casework.models.deadlines import Deadline
from casework.scope import Scope
from casework.vocabulary import OPEN_STAGES, Role
from workflows.clocks import OPEN
from workflows.context import Context
from workflows.policy import CASEWORK_ROLES

PAGE_SIZE = 50
COUNT_CAP = 1_000

# Sort keys, their words, and whether newest/highest comes first.
SORTS = {
    "deadline": "Next deadline",
    "reference": "Reference",
    "opened": "Opened (newest first)",
    "stage": "Stage",
    "school": "School",
    "owner": "Held by",
}


@dataclass(frozen=True)
class Filters:
    school: int | None = None
    stage: str = ""
    level: int | None = None
    owner: int | None = None
    flag: str = ""
    sort: str = "deadline"
    page: int = 1

    def query(self, **change: Any) -> dict[str, Any]:
        """The filters as a page address's query (only what differs from the default)."""
        f = replace(self, **change)
        pairs = {
            "school": f.school,
            "stage": f.stage,
            "level": f.level,
            "owner": f.owner,
            "flag": f.flag,
            "sort": "" if f.sort == "deadline" else f.sort,
            "page": "" if f.page == 1 else f.page,
        }
        return {k: v for k, v in pairs.items() if v not in (None, "")}


@dataclass(frozen=True)
class Row:
    id: int
    reference: str
    pupil_id: int
    pupil_name: str
    nc_year: int | None
    school_id: int
    school_name: str
    stage: str
    level: str
    owner_id: int
    owner_name: str
    opened_at: datetime
    next_due: date | None
    next_label: str
    flags: tuple[str, ...] = ()


def open_deadline() -> ColumnElement[bool]:
    return Deadline.status.in_(OPEN)


def conditions(scope: Scope, profile, f: Filters) -> list[ColumnElement[bool]]:
    """Open cases in the user's scope matching the filters."""
    where: list[ColumnElement[bool]] = [scope.cases(), Case.closed_at.is_(None)]
    if f.school is not None:
        where.append(Case.school_id == f.school)
    if f.stage:
        where.append(Case.stage == f.stage)
    if f.level is not None:
        stages = next((lv.stages for lv in profile.levels if lv.number == f.level), [])
        where.append(Case.stage.in_(stages or ["-"]))
    if f.owner is not None:
        where.append(Case.owner_id == f.owner)
    if f.flag:
        where.append(
            exists().where(
                PupilFlag.pupil_id == Case.pupil_id,
                PupilFlag.school_id == Case.school_id,
                PupilFlag.flag == f.flag,
            )
        )
    return where


def count(session: Session, where: list[ColumnElement[bool]], cap: int = COUNT_CAP) -> int:
    """How many match, up to ``cap + 1`` (more than ``cap`` is said so, not counted)."""
    capped = select(literal(1)).select_from(Case).where(*where).limit(cap + 1).subquery()
    return session.scalar(select(func.count()).select_from(capped)) or 0


def _next_due():
    return (
        select(func.min(Deadline.due_on))
        .where(Deadline.case_id == Case.id, open_deadline())
        .correlate(Case)
        .scalar_subquery()
    )


def _next_label():
    return (
        select(Deadline.label)
        .where(Deadline.case_id == Case.id, open_deadline())
        .order_by(Deadline.due_on, Deadline.id)
        .limit(1)
        .correlate(Case)
        .scalar_subquery()
    )


def _columns(next_deadline: bool = True):
    """The columns a row shows; ``next_deadline=False`` leaves each case's next deadline out
    (the export reads them all in one query instead of two subqueries a row)."""
    if next_deadline:
        nexts = [_next_due().label("next_due"), _next_label().label("next_label")]
    else:
        nexts = [literal(None).label("next_due"), literal(None).label("next_label")]
    return (
        select(
            Case.id,
            Case.reference,
            Case.pupil_id,
            func.coalesce(Pupil.preferred_forename, Pupil.legal_forename).label("forename"),
            func.coalesce(Pupil.preferred_surname, Pupil.legal_surname).label("surname"),
            Pupil.nc_year,
            Case.school_id,
            School.name.label("school_name"),
            Case.stage,
            Case.owner_id,
            User.full_name.label("owner_name"),
            Case.opened_at,
            *nexts,
        )
        .select_from(Case)
        .join(Pupil, Pupil.id == Case.pupil_id)
        .join(School, School.id == Case.school_id)
        .join(User, User.id == Case.owner_id)
    )


def _order(sort: str) -> list[Any]:
    match sort:
        case "reference":
            return [Case.reference]
        case "opened":
            return [Case.opened_at.desc(), Case.id.desc()]
        case "stage":
            return [Case.stage, Case.id]
        case "school":
            return [School.name, Case.id]
        case "owner":
            return [User.full_name, Case.id]
    return [_next_due().asc().nulls_last(), Case.id]


def _rows(session: Session, profile, query) -> list[Row]:
    out = []
    for r in session.execute(query):
        level = profile.level_for(r.stage)
        out.append(
            Row(
                id=r.id,
                reference=r.reference,
                pupil_id=r.pupil_id,
                pupil_name=f"{r.forename} {r.surname}",
                nc_year=r.nc_year,
                school_id=r.school_id,
                school_name=r.school_name,
                stage=r.stage,
                level=f"{level.number}: {level.name}" if level else "",
                owner_id=r.owner_id,
                owner_name=r.owner_name,
                opened_at=r.opened_at,
                next_due=r.next_due,
                next_label=r.next_label or "",
            )
        )
    return out


def _with_flags(session: Session, rows: list[Row], titles: dict[str, str]) -> list[Row]:
    if not rows:
        return rows
    found: dict[tuple[int, int], list[str]] = {}
    for pupil_id, school_id, flag in session.execute(
        select(PupilFlag.pupil_id, PupilFlag.school_id, PupilFlag.flag)
        .where(PupilFlag.pupil_id.in_({r.pupil_id for r in rows}))
        .order_by(PupilFlag.flag)
    ):
        found.setdefault((pupil_id, school_id), []).append(titles.get(flag, flag))
    return [replace(r, flags=tuple(found.get((r.pupil_id, r.school_id), ()))) for r in rows]


def _deadline_order_ids(
    session: Session, where: list[ColumnElement[bool]], offset: int, size: int
) -> list[int]:
    """The ids of cases ``offset`` to ``offset + size`` in next-deadline order: cases with an
    open deadline, earliest first, then those without, by id.

    The first part walks open deadlines by date (an index) joined to their cases and stops once
    it has seen enough distinct cases, instead of computing every case's next deadline."""
    want = offset + size
    limit = max(4 * want, 200)
    while True:
        seen: dict[int, None] = {}
        fetched = 0
        for case_id, _ in session.execute(
            select(Deadline.case_id, Deadline.due_on)
            .join(Case, Case.id == Deadline.case_id)
            .where(open_deadline(), *where)
            .order_by(Deadline.due_on, Deadline.case_id)
            .limit(limit)
        ):
            fetched += 1
            seen.setdefault(case_id, None)
            if len(seen) >= want:
                return list(seen)[offset:want]
        if fetched < limit:
            break  # every open deadline seen: the cases without one come next
        limit *= 4
    with_deadline = list(seen)
    page = with_deadline[offset:want]
    rest_offset = max(0, offset - len(with_deadline))
    rest = session.scalars(
        select(Case.id)
        .where(*where, ~exists().where(Deadline.case_id == Case.id, open_deadline()))
        .order_by(Case.id)
        .offset(rest_offset)
        .limit(size - len(page))
    ).all()
    return page + list(rest)


def caseload_page(
    ctx: Context, f: Filters, size: int = PAGE_SIZE, *, flags: bool = True
) -> tuple[list[Row], int]:
    """One page of the caseload and how many cases match (capped at ``COUNT_CAP + 1``). The
    count is only asked for when the page alone does not tell it (a full page, or a later one)."""
    where = conditions(ctx.scope, ctx.profile, f)
    offset = (f.page - 1) * size
    if f.sort == "deadline":
        ids = _deadline_order_ids(ctx.session, where, offset, size)
        found = (
            {r.id: r for r in _rows(ctx.session, ctx.profile, _columns().where(Case.id.in_(ids)))}
            if ids
            else {}
        )
        rows = [found[i] for i in ids if i in found]
    else:
        rows = _rows(
            ctx.session,
            ctx.profile,
            _columns().where(*where).order_by(*_order(f.sort)).offset(offset).limit(size),
        )
    short = offset == 0 and len(rows) < size
    total = len(rows) if short else count(ctx.session, where)
    if flags:
        rows = _with_flags(ctx.session, rows, flag_titles(ctx.profile.analytics))
    return rows, total


def all_rows(ctx: Context, f: Filters, batch: int = 1000) -> Iterator[Row]:
    """Every matching case in the chosen order (for the export): the cases, then the open
    deadlines of all of them in one query (each case's earliest kept), then flags a batch at a
    time."""
    where = conditions(ctx.scope, ctx.profile, f)
    titles = flag_titles(ctx.profile.analytics)
    order = [Case.id] if f.sort == "deadline" else _order(f.sort)
    rows = _rows(ctx.session, ctx.profile, _columns(False).where(*where).order_by(*order))
    nexts: dict[int, tuple[date, str]] = {}
    for case_id, due_on, label in ctx.session.execute(
        select(Deadline.case_id, Deadline.due_on, Deadline.label)
        .where(open_deadline(), Deadline.case_id.in_(select(Case.id).where(*where)))
        .order_by(Deadline.case_id, Deadline.due_on, Deadline.id)
    ):
        nexts.setdefault(case_id, (due_on, label))
    rows = [
        replace(r, next_due=nexts[r.id][0], next_label=nexts[r.id][1]) if r.id in nexts else r
        for r in rows
    ]
    if f.sort == "deadline":
        rows.sort(key=lambda r: (r.next_due is None, r.next_due or date.min, r.id))
    for first in range(0, len(rows), batch):
        yield from _with_flags(ctx.session, rows[first : first + batch], titles)


CSV_COLUMNS = (
    "Reference",
    "Pupil",
    "Year",
    "School",
    "Stage",
    "Level",
    "Held by",
    "Opened",
    "Next deadline",
    "What is due",
    "Flags",
)


def safe_cell(value: Any) -> str:
    """A cell as text; one a spreadsheet would run as a formula is written as text."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def caseload_csv(ctx: Context, f: Filters) -> str:
    from api.pages.common import words

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in all_rows(ctx, f):
        writer.writerow(
            [
                safe_cell(v)
                for v in (
                    r.reference,
                    r.pupil_name,
                    r.nc_year,
                    r.school_name,
                    words(r.stage),
                    r.level,
                    r.owner_name,
                    r.opened_at,
                    r.next_due,
                    r.next_label,
                    "; ".join(r.flags),
                )
            ]
        )
    return out.getvalue()


# --- options for the filter form -------------------------------------------------------------


def school_options(session: Session, scope: Scope) -> list[tuple[int, str]]:
    return [
        (i, name)
        for i, name in session.execute(
            select(School.id, School.name).where(scope.schools()).order_by(School.name)
        )
    ]


def owner_options(session: Session, scope: Scope) -> list[tuple[int, str]]:
    """People who may hold the cases the user sees: at the user's schools for school staff and
    traded officers, the LA's casework staff otherwise."""
    query = select(User.id, User.full_name).where(
        User.la_id == scope.la_id,
        User.active.is_(True),
        User.role.in_([r.value for r in CASEWORK_ROLES]),
    )
    if scope.by_school:
        query = query.where(
            or_(
                User.id == scope.user_id,
                User.role.in_([Role.STATUTORY_OFFICER.value, Role.LA_MANAGER.value]),
                exists().where(
                    and_(UserSchool.user_id == User.id, UserSchool.school_id.in_(scope.school_ids))
                ),
            )
        )
    return [(i, name) for i, name in session.execute(query.order_by(User.full_name, User.id))]


def _int(text: str) -> int | None:
    return int(text) if is_number(text) and len(text) < 10 else None


def parse(
    ctx: Context, school: str, stage: str, level: str, owner: str, flag: str, sort: str, page: int
) -> Filters:
    """The filters from the page address; anything not recognised is ignored."""
    owner_id = ctx.actor.id if owner == "me" else _int(owner)
    level_no = _int(level)
    return Filters(
        school=_int(school),
        stage=stage if stage in {s.value for s in OPEN_STAGES} else "",
        level=level_no if any(lv.number == level_no for lv in ctx.profile.levels) else None,
        owner=owner_id,
        flag=flag if flag in flag_titles(ctx.profile.analytics) else "",
        sort=sort if sort in SORTS else "deadline",
        page=page,
    )


Text = Annotated[str, QueryParameter(max_length=40)]
PageNumber = Annotated[int, QueryParameter(ge=1, le=100_000)]


class CaseloadPages(Controller):
    path = "/caseload"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def caseload(
        self,
        request: Request,
        school: Text = "",
        stage: Text = "",
        level: Text = "",
        owner: Text = "",
        flag: Text = "",
        sort: Text = "",
        page: PageNumber = 1,
    ) -> Template:
        with unit_of_work(request) as ctx:
            ctx.require_role(*CASEWORK_ROLES, doing="see a caseload")
            f = parse(ctx, school, stage, level, owner, flag, sort, page)
            rows, total = caseload_page(ctx, f, PAGE_SIZE)
            first = (f.page - 1) * PAGE_SIZE + 1
            context = {
                "me": me(ctx),
                "active_section": "caseload",
                "rows": rows,
                "total": total,
                "capped": total > COUNT_CAP,
                "cap": COUNT_CAP,
                "first": first,
                "last": first + len(rows) - 1,
                "filters": f,
                "filtered": bool(f.query(sort="deadline", page=1)),
                "previous": _link(f.query(page=f.page - 1)) if f.page > 1 else None,
                "next": _link(f.query(page=f.page + 1))
                if len(rows) == PAGE_SIZE and (f.page * PAGE_SIZE < total or total > COUNT_CAP)
                else None,
                "export": "/caseload/export.csv"
                + (("?" + urlencode(f.query(page=1))) if f.query(page=1) else ""),
                "sort_links": {key: _link(f.query(sort=key, page=1)) for key in SORTS},
                "sorts": SORTS,
                "school_options": school_options(ctx.session, ctx.scope),
                "stage_options": [(s.value, s.label) for s in OPEN_STAGES],
                "level_options": [
                    (lv.number, f"{lv.number}: {lv.name}") for lv in ctx.profile.levels
                ],
                "owner_options": owner_options(ctx.session, ctx.scope),
                "flag_options": sorted(
                    flag_titles(ctx.profile.analytics).items(), key=lambda x: x[1]
                ),
                "level_heading": f"{ctx.profile.name} level",
                "today": ctx.today(),
            }
        return render("caseload.html", context)

    @get("/export.csv", sync_to_thread=True)
    def export(
        self,
        request: Request,
        school: Text = "",
        stage: Text = "",
        level: Text = "",
        owner: Text = "",
        flag: Text = "",
        sort: Text = "",
    ) -> Response:
        with unit_of_work(request) as ctx:
            ctx.require_role(*CASEWORK_ROLES, doing="export a caseload")
            f = parse(ctx, school, stage, level, owner, flag, sort, 1)
            body = caseload_csv(ctx, f)
            day = ctx.today().isoformat()
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="caseload-{day}.csv"',
                "Cache-Control": "no-store",
            },
        )


def _link(query: dict[str, Any]) -> str:
    return "/caseload" + (("?" + urlencode(query)) if query else "")
