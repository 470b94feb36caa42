"""A subject access export for one pupil: POST with the request's reference, get the ZIP.

Thin over ``workflows.subject_access``: LA managers and administrators of the pupil's LA only
(anyone else is "not found"); every export is an audit entry. POST, not GET: each export is
recorded, and the reference travels in the body, not the address.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, post
from litestar.params import FromPath, JSONBody

from api.controllers.cases import content_disposition
from api.deps import unit_of_work
from workflows.subject_access import MAX_REASON, SubjectAccessExport, export_pupil


class SubjectAccessIn(msgspec.Struct, forbid_unknown_fields=True):
    # The subject access request's reference (the LA's SAR log number).
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_REASON)]


def zip_response(found: SubjectAccessExport) -> Response:
    return Response(
        found.content,
        media_type="application/zip",
        headers={
            "Content-Disposition": content_disposition(found.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Digest": f"sha-256={found.sha256}",
        },
    )


class SubjectAccessController(Controller):
    path = "/pupils"
    tags = ["pupils"]

    @post(
        "/{pupil_id:int}/subject-access-export",
        status_code=200,
        media_type="application/zip",
        sync_to_thread=True,
    )
    def export(
        self, request: Request, pupil_id: FromPath[int], data: JSONBody[SubjectAccessIn]
    ) -> Response:
        """Everything held about the pupil, as a ZIP with index.json and README.txt (LA managers
        and administrators of the pupil's LA; recorded in the audit log)."""
        with unit_of_work(request, write=True) as ctx:
            # The audit entry is the middleware's (api.audit), refusals included.
            found = export_pupil(ctx, pupil_id, reason=data.reason, route=None)
            ctx.commit()
        return zip_response(found)
