"""The "Subject access export" page: an LA manager or administrator confirms with the request's
reference, then downloads everything held about the pupil as a ZIP (``workflows.subject_access``).

Anyone else, and a pupil of another LA, gets "Page not found". Each visit and export is recorded
by ``api.audit``'s middleware.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from api.controllers.subject_access import zip_response
from api.deps import unit_of_work
from api.pages.common import FormError, me, render
from casework.errors import InvalidInput
from workflows.subject_access import MAX_REASON, export_pupil, exportable_pupil


class SubjectAccessForm(msgspec.Struct):
    reason: Annotated[str, msgspec.Meta(max_length=10_000)] = ""


def confirm_page(
    request: Request,
    pupil_id: int,
    *,
    reason: str = "",
    errors: list[FormError] | None = None,
    status: int = 200,
) -> Template:
    with unit_of_work(request) as ctx:
        pupil = exportable_pupil(ctx, pupil_id)
        context = {
            "me": me(ctx),
            "active_section": "caseload",
            "pupil": {"id": pupil.id, "name": pupil.display_name, "upn": pupil.upn},
            "reason": reason,
            "max_reason": MAX_REASON,
            "errors": errors or [],
        }
    return render("subject_access.html", context, status=status)


class SubjectAccessPages(Controller):
    path = "/pupils"
    include_in_schema = False

    @get("/{pupil_id:int}/subject-access", sync_to_thread=True)
    def confirm(self, request: Request, pupil_id: FromPath[int]) -> Template:
        return confirm_page(request, pupil_id)

    @post("/{pupil_id:int}/subject-access", status_code=200, sync_to_thread=True)
    def export(
        self,
        request: Request,
        pupil_id: FromPath[int],
        data: Annotated[SubjectAccessForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response:
        try:
            with unit_of_work(request, write=True) as ctx:
                found = export_pupil(ctx, pupil_id, reason=data.reason, route=None)
                ctx.commit()
        except InvalidInput as exc:
            errors = [FormError("reason", f"Request reference: {p.rule}") for p in exc.problems]
            return confirm_page(request, pupil_id, reason=data.reason, errors=errors, status=422)
        return zip_response(found)
