"""Cases the daily scan proposes: list, accept (opens the case) or dismiss with a reason."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.deps import unit_of_work
from workflows.proposals import accept, dismiss, open_proposals


class Decide(msgspec.Struct, forbid_unknown_fields=True):
    expected_version: int
    reason: str = ""


class ProposalController(Controller):
    path = "/proposals"
    tags = ["proposals"]

    @get("/", sync_to_thread=True)
    def list_open(
        self,
        request: Request,
        school_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> list[dict[str, Any]]:
        with unit_of_work(request) as ctx:
            return [dataclasses.asdict(p) for p in open_proposals(ctx, school_id=school_id)]

    @post("/{proposal_id:int}/accept", sync_to_thread=True)
    def accept_one(
        self, request: Request, proposal_id: FromPath[int], data: JSONBody[Decide]
    ) -> dict[str, Any]:
        with unit_of_work(request, write=True) as ctx:
            case = accept(ctx, proposal_id, expected_version=data.expected_version)
            ctx.commit()
            return {"case_id": case.id, "reference": case.reference}

    @post("/{proposal_id:int}/dismiss", sync_to_thread=True, status_code=204)
    def dismiss_one(
        self, request: Request, proposal_id: FromPath[int], data: JSONBody[Decide]
    ) -> None:
        with unit_of_work(request, write=True) as ctx:
            dismiss(ctx, proposal_id, expected_version=data.expected_version, reason=data.reason)
            ctx.commit()
