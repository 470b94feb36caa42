"""The composition root: settings, engine, clock and routes wired into one Litestar app."""

from __future__ import annotations

from litestar import Litestar, Router
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from sqlalchemy import Engine

from api import redaction
from api.audit import AuditMiddleware
from api.auth import make_session_auth
from api.controllers.admin import UserController, WorkflowController
from api.controllers.audit import AuditController
from api.controllers.auth import AuthController
from api.controllers.calendars import CalendarController
from api.controllers.cases import AttachmentController, CaseController
from api.controllers.deadlines import DeadlineController, calendar_feed, service_health
from api.controllers.decisions import ApprovalController, ReferralController
from api.controllers.imports import ImportController, IntegrationController
from api.controllers.leave import LeaveController
from api.controllers.letters import LetterController, LettersController
from api.controllers.outbox import MailboxController, OutboxController
from api.controllers.packs import PackController
from api.controllers.penalties import PenaltyNoticeController, PenaltyRequestController
from api.controllers.people import FamilyController, PupilController, SchoolController
from api.controllers.preferences import NotificationPreferenceController
from api.controllers.proposals import ProposalController
from api.controllers.registers import CertificateController, RegisterReportController
from api.controllers.statistics import StatisticsController
from api.controllers.subject_access import SubjectAccessController
from api.csrf import API_NOTE, csrf_config, refused
from api.deps import Services
from api.errors import EXCEPTION_HANDLERS, document_problems, ids_in_range
from api.pages import page_routers, template_config
from api.security_headers import security_headers
from casework.clock import Clock, SystemClock
from casework.db import make_engine, make_session_factory
from casework.migrate import upgrade
from config.settings import Settings


def api_router() -> Router:
    """The JSON API, under /api so the server-rendered pages own the rest of the site."""
    return Router(
        path="/api",
        route_handlers=[
            AuthController,
            SchoolController,
            CalendarController,
            PupilController,
            FamilyController,
            CaseController,
            DeadlineController,
            AttachmentController,
            ReferralController,
            ApprovalController,
            UserController,
            WorkflowController,
            RegisterReportController,
            ImportController,
            IntegrationController,
            ProposalController,
            StatisticsController,
            CertificateController,
            LeaveController,
            PenaltyRequestController,
            PenaltyNoticeController,
            OutboxController,
            MailboxController,
            LetterController,
            LettersController,
            PackController,
            NotificationPreferenceController,
            SubjectAccessController,
            AuditController,
        ],
    )


def proxy_headers(settings: Settings) -> list[DefineMiddleware]:
    """The forwarded-address middleware, only when proxies are named (none are trusted else)."""
    if not settings.trusted_proxies:
        return []
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    return [DefineMiddleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))]


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    migrate: bool = True,
) -> Litestar:
    redaction.install()
    settings = settings or Settings.from_env()
    owns_engine = engine is None
    engine = engine or make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    wired = Services(settings, engine, make_session_factory(engine), clock or SystemClock())
    session_auth = make_session_auth(settings)
    app = Litestar(
        route_handlers=[service_health, calendar_feed, api_router(), *page_routers()],
        template_config=template_config(),
        on_app_init=[session_auth.on_app_init],
        # The client's address from a trusted proxy's X-Forwarded-For (uvicorn's middleware, here
        # so every ASGI server gets it); then, inside sign-in (it names the user), every request
        # touching records is audited.
        middleware=[*proxy_headers(settings), AuditMiddleware],
        # Issue 9: CSRF on every unsafe request (api.csrf) and security headers on every response.
        csrf_config=csrf_config(settings),
        before_send=[security_headers(tls=settings.tls)],
        exception_handlers={**EXCEPTION_HANDLERS, PermissionDeniedException: refused},
        before_request=ids_in_range,
        openapi_config=OpenAPIConfig(
            title="Casework",
            version="0.1.0",
            description="School-attendance casework for English local authorities and schools."
            + API_NOTE,
        ),
        # Only an engine made here is ours to close; a caller's engine is the caller's.
        on_shutdown=[engine.dispose] if owns_engine else [],
    )
    app.state.services = wired
    document_problems(app.openapi_schema)  # every /api answer, errors included, in the schema
    return app
