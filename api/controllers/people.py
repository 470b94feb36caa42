"""Schools, pupils and families the signed-in user may see."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api import present
from api.deps import unit_of_work
from api.schemas import FamilyOut, PupilIn, PupilOut, PupilPage, SchoolOut
from casework import queries
from casework.models import User
from casework.vocabulary import CHARACTERISTICS
from workflows.registry import AddPupil, add_pupil

Page = Annotated[int, QueryParameter(ge=1, le=100_000)]
PageSize = Annotated[int, QueryParameter(ge=1, le=200)]


class SchoolController(Controller):
    path = "/schools"
    tags = ["schools"]

    @get("/", sync_to_thread=True)
    def list_schools(self, request: Request) -> list[SchoolOut]:
        with unit_of_work(request) as ctx:
            found = queries.schools(ctx.session, ctx.scope)
            officers = {
                u.id: u
                for u in ctx.session.query(User).filter(
                    User.id.in_({s.traded_officer_id for s in found if s.traded_officer_id})
                )
            }
            return [present.school(s, officers.get(s.traded_officer_id)) for s in found]

    @get("/{school_id:int}", sync_to_thread=True)
    def get_school(self, request: Request, school_id: FromPath[int]) -> SchoolOut:
        with unit_of_work(request) as ctx:
            found = queries.school(ctx.session, ctx.scope, school_id)
            officer = (
                ctx.session.get(User, found.traded_officer_id) if found.traded_officer_id else None
            )
            return present.school(found, officer)


def _pupil_out(ctx, pupil) -> PupilOut:
    siblings = queries.siblings(ctx.session, ctx.scope, pupil)
    cases = queries.cases_of_pupil(ctx.session, ctx.scope, pupil.id)
    names = {s.id: s.name for s in queries.schools(ctx.session, ctx.scope)}
    return present.pupil(pupil, siblings, cases, ctx.profile, names)


class PupilController(Controller):
    path = "/pupils"
    tags = ["pupils"]

    @get("/", sync_to_thread=True)
    def list_pupils(
        self,
        request: Request,
        school_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> PupilPage:
        with unit_of_work(request) as ctx:
            rows, total = queries.list_pupils(ctx.session, ctx.scope, school_id, q, page, page_size)
            return PupilPage([present.pupil_summary(p) for p in rows], total, page, page_size)

    @get("/{pupil_id:int}", sync_to_thread=True)
    def get_pupil(self, request: Request, pupil_id: FromPath[int]) -> PupilOut:
        with unit_of_work(request) as ctx:
            return _pupil_out(ctx, queries.pupil(ctx.session, ctx.scope, pupil_id))

    @post("/", sync_to_thread=True)
    def add(self, request: Request, data: JSONBody[PupilIn]) -> PupilOut:
        with unit_of_work(request, write=True) as ctx:
            pupil = add_pupil(
                ctx,
                AddPupil(
                    upn=data.upn,
                    legal_forename=data.legal_forename,
                    legal_surname=data.legal_surname,
                    date_of_birth=data.date_of_birth,
                    sex=data.sex,
                    nc_year=data.nc_year,
                    school_id=data.school_id,
                    start_date=data.start_date,
                    preferred_forename=data.preferred_forename,
                    preferred_surname=data.preferred_surname,
                    family_id=data.family_id,
                    characteristics={k: getattr(data, k) for k in CHARACTERISTICS},
                ),
            )
            ctx.commit()
            return _pupil_out(ctx, queries.pupil(ctx.session, ctx.scope, pupil.id))


class FamilyController(Controller):
    path = "/families"
    tags = ["pupils"]

    @get("/{family_id:int}", sync_to_thread=True)
    def get_family(self, request: Request, family_id: FromPath[int]) -> FamilyOut:
        with unit_of_work(request) as ctx:
            family, members = queries.family(ctx.session, ctx.scope, family_id)
            contacts = {}
            for member in members:
                for link in member.contacts:
                    contacts.setdefault(link.contact_id, present.contact(link, link.contact))
            return FamilyOut(
                family.id,
                family.reference,
                [present.pupil_summary(p) for p in members],
                list(contacts.values()),
            )
