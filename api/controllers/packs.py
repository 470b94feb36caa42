"""Court packs on a case: the completeness check, the evidential and public-interest tests, build,
list, sign off, and the PDF and ZIP downloads (each an audit event).

Thin handlers over ``workflows.packs.service``: it checks scope first (a case the user cannot see
is "not found") and then the role (only statutory officers and LA managers: 403 otherwise).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from api.controllers.cases import content_disposition
from api.deps import retry_on_conflict, unit_of_work
from workflows.packs.completeness import Completeness
from workflows.packs.service import (
    PDF,
    ZIP,
    Answers,
    PackInput,
    PackView,
    build_pack,
    check_pack,
    download,
    pack_view,
    packs_of,
    record_tests,
    sign_off,
)

Text = Annotated[str, msgspec.Meta(max_length=4000)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Id = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
Key = Annotated[str, msgspec.Meta(max_length=40)]


class PackIn(msgspec.Struct, forbid_unknown_fields=True):
    start: date
    end: date
    offence: Annotated[str, msgspec.Meta(max_length=20)] = "s444(1)"
    court: Short = ""
    contact_ids: Annotated[list[Id], msgspec.Meta(max_length=10)] | None = None
    route: Annotated[str, msgspec.Meta(max_length=30)] = "prosecution"

    def command(self) -> PackInput:
        return PackInput(
            self.start,
            self.end,
            self.offence,
            self.court,
            list(self.contact_ids) if self.contact_ids else None,
            self.route,
        )


class BuildIn(PackIn, forbid_unknown_fields=True):
    # The keys of the completeness warnings the builder has read and accepts.
    acknowledged: Annotated[list[Key], msgspec.Meta(max_length=50)] = []


class TestsIn(msgspec.Struct, forbid_unknown_fields=True):
    offence: Annotated[str, msgspec.Meta(max_length=20)]
    start: date
    end: date
    evidential: dict[Annotated[str, msgspec.Meta(max_length=40)], Text] = {}
    public_interest: dict[Annotated[str, msgspec.Meta(max_length=40)], Text] = {}
    evidential_met: bool = False
    public_interest_met: bool = False
    panel_decision: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    panel_on: date | None = None
    panel_members: Text = ""
    panel_note: Text = ""
    no_interview_reason: Text = ""
    court: Short = ""


class SignOffIn(msgspec.Struct, forbid_unknown_fields=True):
    statement: Text = ""


class ItemOut(msgspec.Struct):
    key: str
    text: str


class CompletenessOut(msgspec.Struct):
    ready: bool
    blocking: list[ItemOut]
    warnings: list[ItemOut]
    limit: date


class SignOffOut(msgspec.Struct):
    role: str
    name: str
    position: str
    on: date
    statement: str


class PackOut(msgspec.Struct):
    id: int
    case_id: int
    number: int
    reference: str
    route: str
    offence: str
    start: date
    end: date
    limit: date
    court: str
    contact_ids: list[int]
    built_by: str
    built_at: datetime
    pages: int
    pdf_sha256: str
    zip_sha256: str
    warnings_acknowledged: list[str]
    sign_offs: list[SignOffOut]
    downloads: int


class EventOut(msgspec.Struct):
    sequence: int
    kind: str
    reason: str | None


def completeness_out(found: Completeness) -> CompletenessOut:
    return CompletenessOut(
        found.ready,
        [ItemOut(i.key, i.text) for i in found.blocking],
        [ItemOut(i.key, i.text) for i in found.warnings],
        found.limit,
    )


def pack_out(view: PackView) -> PackOut:
    p = view.pack
    return PackOut(
        id=p.id,
        case_id=p.case_id,
        number=p.number,
        reference=p.reference,
        route=p.route,
        offence=p.offence,
        start=p.period_start,
        end=p.period_end,
        limit=p.limit_date,
        court=p.court,
        contact_ids=list(p.contact_ids),
        built_by=f"{p.built_by_name}, {p.built_by_position}",
        built_at=p.built_at,
        pages=p.pages,
        pdf_sha256=p.pdf_sha256,
        zip_sha256=p.zip_sha256,
        warnings_acknowledged=list(p.warnings_acknowledged),
        sign_offs=[
            SignOffOut(s.role, s.name, s.position, s.on, s.statement) for s in view.sign_offs
        ],
        downloads=view.downloads,
    )


class PackController(Controller):
    path = "/cases/{case_id:int}/packs"
    tags = ["court packs"]

    @get("/", sync_to_thread=True)
    def list_packs(self, request: Request, case_id: FromPath[int]) -> list[PackOut]:
        with unit_of_work(request) as ctx:
            return [pack_out(v) for v in packs_of(ctx, case_id)]

    @post("/check", status_code=200, sync_to_thread=True)
    def check(
        self, request: Request, case_id: FromPath[int], data: JSONBody[PackIn]
    ) -> CompletenessOut:
        """What is missing for a pack for this offence and period: blocking items and warnings."""
        with unit_of_work(request) as ctx:
            return completeness_out(check_pack(ctx, case_id, data.command()))

    @post("/tests", sync_to_thread=True)
    def tests(self, request: Request, case_id: FromPath[int], data: JSONBody[TestsIn]) -> EventOut:
        """Record the officer's answers to the evidential and public-interest tests and the
        pre-proceedings panel's decision (the latest record counts)."""
        answers = Answers(**msgspec.structs.asdict(data))

        def change(ctx):
            event = record_tests(ctx, case_id, answers)
            return EventOut(event.sequence, event.kind, event.reason)

        return retry_on_conflict(request, change)

    @post("/", sync_to_thread=True)
    def build(self, request: Request, case_id: FromPath[int], data: JSONBody[BuildIn]) -> PackOut:
        """Build the pack: 422 naming each blocking item (``completeness``) and each warning not
        acknowledged (``acknowledged``); otherwise the PDF and ZIP are stored with their sha256."""

        def change(ctx):
            pack = build_pack(ctx, case_id, data.command(), data.acknowledged)
            ctx.session.flush()
            return pack_out(pack_view(ctx, case_id, pack.id))

        return retry_on_conflict(request, change)

    @post("/{pack_id:int}/sign-off", sync_to_thread=True)
    def sign_off(
        self,
        request: Request,
        case_id: FromPath[int],
        pack_id: FromPath[int],
        data: JSONBody[SignOffIn],
    ) -> PackOut:
        """The statutory officer's sign-off, then the manager's."""

        def change(ctx):
            sign_off(ctx, case_id, pack_id, data.statement)
            ctx.session.flush()
            return pack_out(pack_view(ctx, case_id, pack_id))

        return retry_on_conflict(request, change)

    def _download(self, request: Request, case_id: int, pack_id: int, what: str) -> Response:
        found = retry_on_conflict(request, lambda ctx: download(ctx, case_id, pack_id, what))
        return Response(
            found.content,
            media_type=found.media_type,
            headers={
                "Content-Disposition": content_disposition(found.filename),
                "X-Content-Type-Options": "nosniff",
                "Digest": f"sha-256={found.sha256}",
            },
        )

    @get("/{pack_id:int}/pdf", sync_to_thread=True)
    def pdf(self, request: Request, case_id: FromPath[int], pack_id: FromPath[int]) -> Response:
        """The pack's PDF exactly as built (a ``pack_downloaded`` event)."""
        return self._download(request, case_id, pack_id, PDF)

    @get("/{pack_id:int}/zip", sync_to_thread=True)
    def zip(self, request: Request, case_id: FromPath[int], pack_id: FromPath[int]) -> Response:
        """The ZIP: the PDF, each exhibit file and index.json (a ``pack_downloaded`` event)."""
        return self._download(request, case_id, pack_id, ZIP)
