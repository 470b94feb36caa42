"""Server-rendered pages: signing in, My work, cases, pupils, registers, penalty notices and
leave of absence (Jinja2, no JavaScript needed).

Handlers are thin, like the API's: parse a form, call the same scoped services and queries inside
a unit of work, render a template. Failures a user can act on re-render the form with an error
summary; a record outside the user's scope is the "Page not found" page.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from api.pages.account import AccountPages
from api.pages.admin import AdminPages
from api.pages.admin_tokens import AdminTokenPages
from api.pages.audit import AuditPages
from api.pages.case_forms import CaseFormPages
from api.pages.caseload import CaseloadPages
from api.pages.cases import CasePages
from api.pages.common import ERROR_PAGES, configure
from api.pages.imports import ImportPages
from api.pages.leave import LeavePages
from api.pages.letters import LetterPages
from api.pages.outbox import OutboxPages
from api.pages.packs import PackPages
from api.pages.penalties import PenaltyPages
from api.pages.penalty_notices import PenaltyNoticePages
from api.pages.penalty_requests import PenaltyRequestPages
from api.pages.pupils import PupilPages
from api.pages.registers import RegisterPages
from api.pages.reports import ReportPages
from api.pages.schools import SchoolPages
from api.pages.sign_in import SignInPages
from api.pages.subject_access import SubjectAccessPages
from api.pages.work import ProposalPages, WorkPages

HERE = Path(__file__).resolve().parent.parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    # Litestar's Jinja environment escapes every value (autoescape=True).
    return TemplateConfig(
        directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=configure
    )


def page_routers() -> list[Router]:
    pages = Router(
        path="/",
        route_handlers=[
            SignInPages,
            AccountPages,
            WorkPages,
            ProposalPages,
            CaseloadPages,
            CasePages,
            CaseFormPages,
            LetterPages,
            PupilPages,
            SubjectAccessPages,
            RegisterPages,
            ReportPages,
            SchoolPages,
            PenaltyPages,
            PenaltyRequestPages,
            PenaltyNoticePages,
            LeavePages,
            PackPages,
            ImportPages,
            OutboxPages,
            AdminPages,
            AdminTokenPages,
            AuditPages,
        ],
        exception_handlers=ERROR_PAGES,
        include_in_schema=False,
    )
    static = create_static_files_router(
        path="/static", directories=[STATIC], name="static", include_in_schema=False
    )
    return [pages, static]
