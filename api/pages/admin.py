"""The administrators' pages: users (add, change role and schools, deactivate), the roles
explained, the LA's schools and who works for them, calendars (the LA's term dates, each school's
INSET days and closures, adding one), and the LA profile, read-only.

Administrators manage users and settings and see no pupil records: nothing here reads a pupil,
a case or a register. Every page is for administrators only ("Not allowed" for anyone else).
Thin, like the JSON API: users through ``workflows.registry.add_user`` and
``workflows.users``, calendar changes through ``workflows.calendar_changes``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy import select

from api.deps import unit_of_work
from api.pages.common import (
    DATE_RULE,
    ROLE_WORDS,
    FormError,
    is_number,
    la_name,
    me,
    parse_day,
    render,
    sentence,
    words,
)
from casework import queries
from casework.calendars import CalendarChange, ChangeKind, TermCalendar, school_calendar
from casework.calendars.config_files import la_calendar
from casework.calendars.model import academic_year_of, year_label
from casework.calendars.store import (
    calendar_from,
    overrides_in_force,
    recorded_la_years,
    session_name,
)
from casework.errors import Conflict, Forbidden, InvalidInput, NotFound
from casework.models import LocalAuthority, School, SchoolCalendarOverride, User
from casework.vocabulary import STAGE_LABELS, Role
from workflows import calendar_changes
from workflows.context import Context
from workflows.registry import AddUser, add_user
from workflows.users import (
    ASSIGNABLE,
    BY_SCHOOL,
    ChangeUser,
    change_user,
    reset_second_factor,
    set_active,
    unlock_user,
    user_to_manage,
)

# As the JSON API's UserIn.
USERNAME = re.compile(r"[a-z0-9._-]{3,100}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Year = Annotated[int | None, QueryParameter(name="year", ge=2000, le=2099)]

ROLE_EXPLAINED: dict[str, str] = {
    Role.SCHOOL_STAFF.value: (
        "A school's attendance lead or staff. Sees the pupils and cases of their one school, "
        "opens cases, records calls, letters, meetings and home visits, refers to the LA, "
        "requests penalty notices and imports the school's registers."
    ),
    Role.TRADED_OFFICER.value: (
        "An officer of the LA's traded attendance service. Sees every school they serve and "
        "every sibling across those schools, holds Attendance Improvement Meetings and "
        "escalates cases."
    ),
    Role.STATUTORY_OFFICER.value: (
        "Takes statutory (Level 3 to 4) cases across the LA: attendance contracts, Notices to "
        "Improve, penalty notices, education supervision orders and prosecution."
    ),
    Role.LA_MANAGER.value: (
        "Sees everything in the LA, approves moves to formal stages, retries failed emails and "
        "imports registers for any school."
    ),
    Role.ADMIN.value: (
        "Manages users, schools served, calendars and settings. Sees no pupil or case records."
    ),
}

USER_LABELS = {
    "username": "Username",
    "full_name": "Full name",
    "position": "Position",
    "email": "Email address",
    "role": "Role",
    "password": "Password",
    "school_ids": "Schools",
    "manager_id": "Manager",
}

CALENDAR_LABELS = {
    "kind": "What to add",
    "first": "Date",
    "last": "Last day",
    "session": "Sessions",
    "reason": "Reason",
}
SESSION_OPTIONS = [("both", "Whole day"), ("am", "Morning only"), ("pm", "Afternoon only")]
KIND_OPTIONS = [(ChangeKind.INSET_DAY.value, "INSET day"), (ChangeKind.CLOSURE.value, "Closure")]


# --- helpers ----------------------------------------------------------------------------------


def _admin(ctx: Context) -> None:
    if Role(ctx.actor.role) is not Role.ADMIN:
        raise Forbidden("only administrators manage users and settings")


def form_text(data: dict[str, Any], key: str, longest: int = 300) -> str:
    """A posted field's last value, trimmed and cut to ``longest``."""
    value = data.get(key, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value).strip()[:longest]


def form_values(data: dict[str, Any], key: str) -> list[str]:
    """Every value posted for a field (checkboxes)."""
    value = data.get(key)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _ids(values: list[str]) -> list[int] | None:
    try:
        return sorted({int(v) for v in values if v.strip()})
    except ValueError:
        return None


def _schools(ctx: Context) -> list[School]:
    return list(
        ctx.session.scalars(
            select(School).where(School.la_id == ctx.actor.la_id).order_by(School.name)
        )
    )


def _role_options() -> list[tuple[str, str]]:
    return [(r.value, ROLE_WORDS[r.value]) for r in ASSIGNABLE]


def _user_errors(exc: InvalidInput, prefix: str) -> list[FormError]:
    errors = []
    for p in exc.problems:
        field = p.field if p.field in USER_LABELS else "user"
        errors.append(FormError(f"{prefix}-{field}", f"{USER_LABELS.get(field, 'User')}: {p.rule}"))
    return errors


def _user_row(user: User, schools: dict[int, str]) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "position": user.position,
        "email": user.email,
        "role": user.role,
        "role_words": ROLE_WORDS.get(user.role, words(user.role)),
        "active": user.active,
        "locked": user.locked_at is not None,
        "two_factor": user.totp_enabled_at is not None,
        "schools": sorted(schools.get(sid, f"school {sid}") for sid in user.school_ids),
        "school_ids": sorted(user.school_ids),
        "by_school": user.role in {r.value for r in BY_SCHOOL},
    }


def _names(ctx: Context) -> dict[int, str]:
    return {s.id: s.name for s in _schools(ctx)}


# --- users ------------------------------------------------------------------------------------


def _new_user_page(
    request: Request,
    *,
    form: dict[str, Any] | None = None,
    errors: list[FormError] | None = None,
    status: int = 200,
) -> Template:
    with unit_of_work(request) as ctx:
        _admin(ctx)
        managers = ctx.session.scalars(
            select(User)
            .where(
                User.la_id == ctx.actor.la_id,
                User.active.is_(True),
                User.role == Role.LA_MANAGER.value,
            )
            .order_by(User.full_name)
        )
        context = {
            "me": me(ctx),
            "active_section": "admin",
            "form": form or {"role": "", "school_ids": []},
            "role_options": _role_options(),
            "school_options": [(s.id, f"{s.name} ({s.urn})") for s in _schools(ctx)],
            "manager_options": [(u.id, u.full_name) for u in managers],
            "errors": errors or [],
        }
    return render("admin_user_new.html", context, status=status)


def _user_page(
    request: Request,
    user_id: int,
    *,
    form: dict[str, Any] | None = None,
    errors: list[FormError] | None = None,
    confirmation: str | None = None,
    status: int = 200,
) -> Template:
    with unit_of_work(request) as ctx:
        _admin(ctx)
        user = user_to_manage(ctx, user_id)
        row = _user_row(user, _names(ctx))
        context = {
            "me": me(ctx),
            "active_section": "admin",
            "user": row,
            "myself": user.id == ctx.actor.id,
            "form": form or {"role": row["role"], "school_ids": row["school_ids"]},
            "role_options": _role_options(),
            "school_options": [(s.id, f"{s.name} ({s.urn})") for s in _schools(ctx)],
            "confirmation": confirmation,
            "errors": errors or [],
        }
    return render("admin_user.html", context, status=status)


CONFIRMATIONS = {
    "added": "The user has been added",
    "changed": "The user's role and schools have been saved",
    "deactivated": "The account has been deactivated: the user can no longer sign in",
    "reactivated": "The account is active again",
    "unlocked": "The account is unlocked: the user can sign in again",
    "second_factor_reset": "The second factor is reset: the user sets up a new one",
}


class AdminPages(Controller):
    path = "/admin"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def overview(self, request: Request) -> Template:
        with unit_of_work(request) as ctx:
            _admin(ctx)
            users = list(ctx.session.scalars(select(User).where(User.la_id == ctx.actor.la_id)))
            context = {
                "me": me(ctx),
                "active_section": "admin",
                "la": la_name(ctx),
                "profile_name": ctx.profile.name,
                "user_count": sum(1 for u in users if u.active and u.role != Role.INTEGRATION),
                "inactive_count": sum(1 for u in users if not u.active),
                "school_count": len(_schools(ctx)),
            }
        return render("admin.html", context)

    @get("/users", sync_to_thread=True)
    def users(
        self,
        request: Request,
        show: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Template:
        with unit_of_work(request) as ctx:
            _admin(ctx)
            query = select(User).where(
                User.la_id == ctx.actor.la_id, User.role != Role.INTEGRATION.value
            )
            if show != "all":
                query = query.where(User.active.is_(True))
            names = _names(ctx)
            rows = [
                _user_row(u, names)
                for u in ctx.session.scalars(query.order_by(User.full_name, User.id))
            ]
            context = {
                "me": me(ctx),
                "active_section": "admin",
                "users": rows,
                "show_all": show == "all",
            }
        return render("admin_users.html", context)

    @get("/users/new", sync_to_thread=True)
    def new_user(self, request: Request) -> Template:
        return _new_user_page(request)

    @post("/users", sync_to_thread=True)
    def add(self, request: Request, data: Form) -> Response:
        form = {
            key: form_text(data, key, 320)
            for key in ("username", "full_name", "position", "email", "role", "manager_id")
        }
        form["school_ids"] = form_values(data, "school_ids")
        password = form_text(data, "password", 200)
        errors = [
            FormError(f"new-{key}", f"Enter the user's {USER_LABELS[key].lower()}")
            for key in ("username", "full_name", "position", "email")
            if not form[key]
        ]
        errors += [
            FormError(f"new-{key}", f"{USER_LABELS[key]}: at most 200 characters")
            for key in ("full_name", "position")
            if len(form[key]) > 200
        ]
        if form["username"] and not USERNAME.fullmatch(form["username"]):
            errors.append(
                FormError(
                    "new-username",
                    "Username: 3 to 100 lower-case letters, digits, dots, dashes or underscores",
                )
            )
        if form["email"] and not EMAIL.fullmatch(form["email"]):
            errors.append(
                FormError("new-email", "Email address: enter an address like name@example.org")
            )
        if form["role"] not in {r.value for r in ASSIGNABLE}:
            errors.append(FormError("new-role", "Choose the user's role"))
        if len(password) < 12:
            errors.append(FormError("new-password", "Password: use at least 12 characters"))
        school_ids = _ids(form["school_ids"])
        if school_ids is None:
            errors.append(FormError("new-school_ids", "Schools: choose from the list"))
        manager_id = None
        if form["manager_id"]:
            if not is_number(form["manager_id"]):
                errors.append(FormError("new-manager_id", "Manager: choose from the list"))
            else:
                manager_id = int(form["manager_id"])
        if errors:
            return _new_user_page(request, form=form, errors=errors, status=422)
        role = Role(form["role"])
        if role not in BY_SCHOOL:
            school_ids = []
        try:
            with unit_of_work(request, write=True) as ctx:
                _admin(ctx)
                user = add_user(
                    ctx,
                    AddUser(
                        form["username"],
                        form["full_name"],
                        form["position"],
                        form["email"],
                        role,
                        password,
                        school_ids or [],
                        manager_id,
                    ),
                )
                ctx.commit()
                user_id = user.id
        except InvalidInput as exc:
            return _new_user_page(request, form=form, errors=_user_errors(exc, "new"), status=422)
        except Conflict as exc:
            return _new_user_page(
                request,
                form=form,
                errors=[FormError("new-username", sentence(str(exc)))],
                status=409,
            )
        return Redirect(f"/admin/users/{user_id}?done=added", status_code=303)

    @get("/users/{user_id:int}", sync_to_thread=True)
    def user(
        self,
        request: Request,
        user_id: FromPath[int],
        done: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Template:
        return _user_page(request, user_id, confirmation=CONFIRMATIONS.get(done or ""))

    @post("/users/{user_id:int}", sync_to_thread=True)
    def change(self, request: Request, user_id: FromPath[int], data: Form) -> Response:
        form = {"role": form_text(data, "role", 40), "school_ids": form_values(data, "school_ids")}
        errors = []
        if form["role"] not in {r.value for r in ASSIGNABLE}:
            errors.append(FormError("user-role", "Choose the user's role"))
        school_ids = _ids(form["school_ids"])
        if school_ids is None:
            errors.append(FormError("user-school_ids", "Schools: choose from the list"))
        if errors:
            return _user_page(request, user_id, form=form, errors=errors, status=422)
        try:
            with unit_of_work(request, write=True) as ctx:
                change_user(ctx, user_id, ChangeUser(Role(form["role"]), school_ids or []))
                ctx.commit()
        except InvalidInput as exc:
            errors, status = _user_errors(exc, "user"), 422
        except Conflict as exc:
            errors, status = [FormError("user-role", sentence(str(exc)))], 409
        else:
            return Redirect(f"/admin/users/{user_id}?done=changed", status_code=303)
        return _user_page(request, user_id, form=form, errors=errors, status=status)

    @post("/users/{user_id:int}/active", sync_to_thread=True)
    def activate(self, request: Request, user_id: FromPath[int], data: Form) -> Response:
        active = form_text(data, "active", 10) == "yes"
        try:
            with unit_of_work(request, write=True) as ctx:
                set_active(ctx, user_id, active)
                ctx.commit()
        except Conflict as exc:
            error = FormError("account", sentence(str(exc)))
            return _user_page(request, user_id, errors=[error], status=409)
        done = "reactivated" if active else "deactivated"
        return Redirect(f"/admin/users/{user_id}?done={done}", status_code=303)

    @post("/users/{user_id:int}/unlock", sync_to_thread=True)
    def unlock(self, request: Request, user_id: FromPath[int]) -> Response:
        with unit_of_work(request, write=True) as ctx:
            unlock_user(ctx, user_id, route="POST /admin/users/{user_id}/unlock")
            ctx.commit()
        return Redirect(f"/admin/users/{user_id}?done=unlocked", status_code=303)

    @post("/users/{user_id:int}/second-factor-reset", sync_to_thread=True)
    def second_factor_reset(self, request: Request, user_id: FromPath[int]) -> Response:
        route = "POST /admin/users/{user_id}/second-factor-reset"
        with unit_of_work(request, write=True) as ctx:
            reset_second_factor(ctx, user_id, route=route)
            ctx.commit()
        return Redirect(f"/admin/users/{user_id}?done=second_factor_reset", status_code=303)

    @get("/roles", sync_to_thread=True)
    def roles(self, request: Request) -> Template:
        with unit_of_work(request) as ctx:
            _admin(ctx)
            context = {
                "me": me(ctx),
                "active_section": "admin",
                "roles": [
                    {"value": r.value, "name": ROLE_WORDS[r.value], "text": ROLE_EXPLAINED[r.value]}
                    for r in ASSIGNABLE
                ],
            }
        return render("admin_roles.html", context)

    @get("/schools", sync_to_thread=True)
    def schools(self, request: Request) -> Template:
        with unit_of_work(request) as ctx:
            _admin(ctx)
            users = list(
                ctx.session.scalars(
                    select(User)
                    .where(
                        User.la_id == ctx.actor.la_id,
                        User.active.is_(True),
                        User.role.in_([r.value for r in BY_SCHOOL]),
                    )
                    .order_by(User.full_name)
                )
            )
            officer_names = {
                u.id: u.full_name
                for u in ctx.session.scalars(select(User).where(User.la_id == ctx.actor.la_id))
            }
            rows = []
            for school in _schools(ctx):
                working = [u for u in users if school.id in u.school_ids]
                rows.append(
                    {
                        "id": school.id,
                        "name": school.name,
                        "urn": school.urn,
                        "number": school.establishment_number,
                        "phase": school.phase,
                        "traded": school.traded_service,
                        "traded_officer": officer_names.get(school.traded_officer_id or 0),
                        "staff": [
                            (u.id, u.full_name) for u in working if u.role == Role.SCHOOL_STAFF
                        ],
                        "officers": [
                            (u.id, u.full_name) for u in working if u.role == Role.TRADED_OFFICER
                        ],
                    }
                )
            context = {"me": me(ctx), "active_section": "admin", "schools": rows}
        return render("admin_schools.html", context)

    # --- calendars ----------------------------------------------------------------------------

    @get("/calendars", sync_to_thread=True)
    def calendars(self, request: Request, year: Year = None) -> Template:
        with unit_of_work(request) as ctx:
            _admin(ctx)
            start_year = year if year is not None else academic_year_of(ctx.today())
            la = ctx.session.get(LocalAuthority, ctx.actor.la_id)
            shipped = la_calendar(la.profile)
            years = {y.start_year: y for y in shipped.years} | recorded_la_years(ctx.session, la.id)
            cal = calendar_from(
                la.name, tuple(years[y] for y in sorted(years)), [], shipped.pattern
            )
            schools = []
            for school in _schools(ctx):
                own = school_calendar(ctx.session, school)
                schools.append(
                    {
                        "id": school.id,
                        "name": school.name,
                        "inset": len(own.inset_days_in(start_year)),
                        "closures": len(own.closures_in(start_year)),
                        "own_terms": own.year(start_year).source.endswith("own term dates"),
                    }
                )
            context = {
                "me": me(ctx),
                "active_section": "admin",
                "year": _year_view(cal, start_year),
                "start_year": start_year,
                "schools": schools,
            }
        return render("admin_calendars.html", context)

    @get("/schools/{school_id:int}/calendar", sync_to_thread=True)
    def school_calendar_page(
        self,
        request: Request,
        school_id: FromPath[int],
        year: Year = None,
        added: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> Template:
        return _calendar_page(request, school_id, year, added=added)

    @post("/schools/{school_id:int}/calendar", sync_to_thread=True)
    def add_to_calendar(self, request: Request, school_id: FromPath[int], data: Form) -> Response:
        form = {key: form_text(data, key, 2000) for key in CALENDAR_LABELS}
        errors = []
        kind = form["kind"]
        if kind not in {k for k, _ in KIND_OPTIONS}:
            errors.append(FormError("calendar-kind", "Choose an INSET day or a closure"))
        first = _date(form["first"])
        if first is None:
            errors.append(FormError("calendar-first", f"Date: {DATE_RULE}"))
        last = None
        if kind == ChangeKind.CLOSURE.value and form["last"]:
            last = _date(form["last"])
            if last is None:
                errors.append(
                    FormError("calendar-last", f"Last day: {DATE_RULE}, or leave it empty")
                )
        if form["session"] not in {v for v, _ in SESSION_OPTIONS}:
            errors.append(
                FormError("calendar-session", "Choose the whole day, morning or afternoon")
            )
        if not form["reason"]:
            errors.append(FormError("calendar-reason", "Enter the reason"))
        if errors:
            return _calendar_page(request, school_id, None, form=form, errors=errors, status=422)
        change = CalendarChange(
            kind=ChangeKind(kind),
            reason=form["reason"],
            first=first,
            last=last,
            session=form["session"],
        )
        try:
            with unit_of_work(request, write=True) as ctx:
                _admin(ctx)
                school = queries.school(ctx.session, ctx.scope, school_id)
                edit = calendar_changes.change_school_calendar(ctx, school, change)
                ctx.commit()
                moved = len(edit.moved)
        except InvalidInput as exc:
            errors = [
                FormError(
                    f"calendar-{p.field}" if p.field in CALENDAR_LABELS else "calendar-first",
                    f"{CALENDAR_LABELS.get(p.field, 'Date')}: {sentence(str(p.rule))}",
                )
                for p in exc.problems
            ]
            return _calendar_page(request, school_id, None, form=form, errors=errors, status=422)
        start_year = academic_year_of(first)
        return Redirect(
            f"/admin/schools/{school_id}/calendar?year={start_year}&added={moved + 1}",
            status_code=303,
        )

    @get("/schools/{school_id:int}/calendar/{entry_id:int}/withdraw", sync_to_thread=True)
    def withdraw_page(
        self, request: Request, school_id: FromPath[int], entry_id: FromPath[int]
    ) -> Template:
        return _withdraw_page(request, school_id, entry_id)

    @post("/schools/{school_id:int}/calendar/{entry_id:int}/withdraw", sync_to_thread=True)
    def withdraw(
        self, request: Request, school_id: FromPath[int], entry_id: FromPath[int], data: Form
    ) -> Response:
        reason = form_text(data, "reason", 2000)
        if not reason:
            error = FormError("withdraw-reason", "Enter why the entry is withdrawn")
            return _withdraw_page(request, school_id, entry_id, errors=[error], status=422)
        try:
            with unit_of_work(request, write=True) as ctx:
                _admin(ctx)
                school = queries.school(ctx.session, ctx.scope, school_id)
                entry = _entry(ctx, school.id, entry_id)
                change = CalendarChange(
                    kind=ChangeKind.WITHDRAWAL, reason=reason, supersedes=entry_id
                )
                edit = calendar_changes.change_school_calendar(ctx, school, change)
                ctx.commit()
                moved, first = len(edit.moved), entry.first_day
        except InvalidInput as exc:
            errors = [
                FormError("withdraw-reason", f"{sentence(str(p.rule))}") for p in exc.problems
            ]
            return _withdraw_page(request, school_id, entry_id, errors=errors, status=422)
        return Redirect(
            f"/admin/schools/{school_id}/calendar?year={academic_year_of(first)}&added={moved + 1}",
            status_code=303,
        )

    # --- the LA profile -----------------------------------------------------------------------

    @get("/profile", sync_to_thread=True)
    def profile(self, request: Request) -> Template:
        with unit_of_work(request) as ctx:
            _admin(ctx)
            p = ctx.profile
            context = {
                "me": me(ctx),
                "active_section": "admin",
                "la": la_name(ctx),
                "profile": p,
                "levels": [
                    {
                        "number": lv.number,
                        "name": lv.name,
                        "description": lv.description,
                        "stages": [STAGE_LABELS_BY_VALUE.get(s, words(s)) for s in lv.stages],
                    }
                    for lv in p.levels
                ],
                "approval": [
                    STAGE_LABELS_BY_VALUE.get(s, words(s)) for s in p.approval_required_before
                ],
                "statutory": [STAGE_LABELS_BY_VALUE.get(s, words(s)) for s in p.statutory_stages],
                "clocks": [
                    {
                        "kind": kind,
                        "label": rule.label,
                        "period": _period(rule.period)
                        if rule.period
                        else "Set by the record that starts it",
                        "offset": _period(rule.start_offset) if rule.start_offset else "",
                        "armed_by": [_happening(h) for h in rule.armed_by],
                        "cancelled_by": [_happening(h) for h in rule.cancelled_by],
                        "reminder": (
                            f"{rule.remind_days_before} calendar days ahead"
                            if rule.remind_days_before
                            else f"{p.reminder_school_days} school days ahead"
                        ),
                        "enabled": rule.enabled,
                    }
                    for kind, rule in sorted(p.clocks.items(), key=lambda item: item[1].label)
                ],
                "thresholds": _thresholds(p),
            }
        return render("admin_profile.html", context)


STAGE_LABELS_BY_VALUE = {stage.value: label for stage, label in STAGE_LABELS.items()}


def _date(text: str) -> date | None:
    try:
        return parse_day(text)
    except ValueError:
        return None


def _period(spec) -> str:
    unit = spec.unit.replace("_", " ")
    if spec.unit == "end_of_half_term":
        return "To the end of the half term"
    if spec.amount == 1 and unit.endswith("s"):
        unit = unit[:-1]
    return f"{spec.amount} {unit}"


def _happening(text: str) -> str:
    what, _, value = text.partition(":")
    named = STAGE_LABELS_BY_VALUE.get(value) or words(value)
    return {
        "stage_entered": f"Stage entered: {named}",
        "stage_exited": f"Stage left: {named}",
        "intervention": f"Intervention recorded: {named}",
        "outcome": f"Outcome recorded: {named}",
        "flag_raised": f"Flag raised: {named}",
        "flag_cleared": f"Flag cleared: {named}",
        "penalty_notice": f"Penalty notice {named.lower()}",
        "court_pack": f"Court pack: {named.lower()}",
    }.get(what, words(text))


def _pence(value: int) -> str:
    return f"£{value / 100:,.2f}"


def _thresholds(p) -> list[tuple[str, str]]:
    a, n, pn, f = p.analytics, p.notice_to_improve, p.penalty_notices, p.facilitate
    return [
        ("Persistent absence", f"{a.persistent_percent}% of sessions missed or more"),
        ("Severe absence", f"{a.severe_percent}% of sessions missed or more"),
        ("Attendance of concern", f"below {a.concern_below_percent}%"),
        ("Possible neglect", f"{a.neglect_at_or_below_percent}% or below"),
        (
            "Unauthorised late marks",
            f"{a.late_u_marks} U marks in {a.late_u_school_weeks} school weeks",
        ),
        (
            "Continuous absence",
            " and ".join(f"{d} school days" for d in a.continuous_absence_days),
        ),
        ("Illness", f"{a.illness_days:g} days"),
        ("Falling attendance", f"a drop of {a.trend_drop_points:g} points"),
        (
            "Penalty-notice threshold",
            f"{n.threshold_sessions} sessions in {n.threshold_school_weeks} school weeks "
            f"(codes {', '.join(n.counted_codes)})",
        ),
        ("Notice to Improve period", _period(n.period)),
        (
            "Level 1 school actions",
            f"at least {f.min_school_actions} over {_period(f.school_action_period)}"
            + ("; an Early Help assessment first" if f.require_early_help else ""),
        ),
        (
            "Penalty notice amounts",
            f"{_pence(pn.first_discounted_pence)} within {pn.discount_days} days, "
            f"{_pence(pn.first_full_pence)} within {pn.payment_days} days; "
            f"a second notice {_pence(pn.repeat_full_pence)}",
        ),
        (
            "Penalty notice limit",
            f"{pn.most_in_limit} notices in {pn.limit_years} years",
        ),
        ("Deemed receipt", f"{_period(pn.deemed_receipt)} after posting"),
    ]


def _year_view(cal: TermCalendar, start_year: int) -> dict[str, Any]:
    year = cal.year(start_year)
    return {
        "label": year.label,
        "provisional": year.provisional,
        "source": year.source,
        "terms": [
            {
                "name": t.name.capitalize(),
                "first": t.first,
                "last": t.last,
                "half_term": (t.half_term.first, t.half_term.last) if t.half_term else None,
            }
            for t in year.terms
        ],
        "bank_holidays": cal.bank_holidays(start_year),
        "previous": start_year - 1,
        "next": start_year + 1,
        "previous_label": year_label(start_year - 1),
        "next_label": year_label(start_year + 1),
    }


def _entry(ctx: Context, school_id: int, entry_id: int) -> SchoolCalendarOverride:
    """An INSET day or closure in force on the school's calendar (else "Page not found")."""
    for row in overrides_in_force(ctx.session, school_id):
        if row.id == entry_id and row.kind in (ChangeKind.INSET_DAY, ChangeKind.CLOSURE):
            return row
    raise NotFound("calendar entry", entry_id)


def _withdraw_page(
    request: Request,
    school_id: int,
    entry_id: int,
    *,
    errors: list[FormError] | None = None,
    status: int = 200,
) -> Template:
    with unit_of_work(request) as ctx:
        _admin(ctx)
        school = queries.school(ctx.session, ctx.scope, school_id)
        row = _entry(ctx, school.id, entry_id)
        context = {
            "me": me(ctx),
            "active_section": "admin",
            "school": {"id": school.id, "name": school.name, "urn": school.urn},
            "entry": {
                "id": row.id,
                "what": "INSET day" if row.kind == ChangeKind.INSET_DAY else "Closure",
                "first": row.first_day,
                "last": row.last_day or row.first_day,
                "session": dict(SESSION_OPTIONS).get(row.session or "both", row.session),
                "reason": row.reason,
            },
            "errors": errors or [],
        }
    return render("admin_calendar_withdraw.html", context, status=status)


def _calendar_page(
    request: Request,
    school_id: int,
    year: int | None,
    *,
    form: dict[str, Any] | None = None,
    errors: list[FormError] | None = None,
    added: int | None = None,
    status: int = 200,
) -> Template:
    with unit_of_work(request) as ctx:
        _admin(ctx)
        school = queries.school(ctx.session, ctx.scope, school_id)
        start_year = year if year is not None else academic_year_of(ctx.today())
        cal = school_calendar(ctx.session, school)
        context = {
            "me": me(ctx),
            "active_section": "admin",
            "school": {"id": school.id, "name": school.name, "urn": school.urn},
            "year": _year_view(cal, start_year),
            "start_year": start_year,
            "inset_days": [
                {
                    "id": i.ident,
                    "day": i.day,
                    "session": session_name(i.sessions),
                    "reason": i.reason,
                }
                for i in cal.inset_days_in(start_year)
            ],
            "closures": [
                {
                    "id": c.ident,
                    "first": c.days.first,
                    "last": c.days.last,
                    "session": session_name(c.sessions),
                    "reason": c.reason,
                }
                for c in cal.closures_in(start_year)
            ],
            "session_words": dict(SESSION_OPTIONS),
            "kind_options": KIND_OPTIONS,
            "session_options": SESSION_OPTIONS,
            "form": form or {"kind": ChangeKind.INSET_DAY.value, "session": "both"},
            # ``added`` carries 1 + the number of deadlines recounted (0 is not a query value).
            "added": None if added is None else added - 1,
            "errors": errors or [],
        }
    return render("admin_calendar.html", context, status=status)
