"""The browser tests: the real app, served by uvicorn from a small seeded demo, driven by
Playwright through Debian's Chromium, with axe-core run on every page visited.

One server and one browser serve the whole session (seeding and starting take a few seconds);
each test gets its own browser context, so cookies never leak between tests. Every page a test
visits through ``visit`` is screenshotted into ``test-artifacts/screenshots/<test>/`` and must
have no WCAG 2.0/2.1/2.2 A or AA violation.

The tests skip when Chromium (/usr/bin/chromium, or CASEWORK_CHROMIUM), axe-core (npm) or the
playwright package is missing, unless CASEWORK_REQUIRE_BROWSER=1 (CI), where that fails them.
They carry the ``browser`` marker: ``pytest -m "not browser"`` leaves them out.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from api.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CASEWORK_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = DEMO_PASSWORD  # the demo server shares one password for every user
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A small demo: a few seconds to seed, yet every stage and role has something in it.
DEMO_ARGS = ["--schools", "6", "--pupils", "400", "--seed", "7"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.browser)


def _require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, AXE) if not p.exists()]
    if importlib.util.find_spec("playwright") is None:
        missing.append("the playwright Python package")
    if not missing:
        return
    why = f"browser tests need {' and '.join(missing)} (apt-get install chromium; npm ci)"
    if os.environ.get("CASEWORK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"CASEWORK_REQUIRE_BROWSER=1 but {why}", pytrace=False)
    pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    base_url: str
    var_dir: Path
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log: an error page's cause (the log names the exception's
        type and the address)."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    @property
    def database(self) -> Path:
        return self.var_dir / "casework.db"

    def query(self, sql: str, *params) -> list[tuple]:
        """Read the demo's database (read-only): to find a record to open, never to change one."""
        uri = f"file:{self.database}?mode=ro"
        with sqlite3.connect(uri, uri=True) as db:
            return db.execute(sql, params).fetchall()


@pytest.fixture(scope="package")
def server(tmp_path_factory) -> Iterator[Server]:
    _require_browser()
    var_dir = tmp_path_factory.mktemp("browser-demo")
    env = {
        **os.environ,
        "CASEWORK_VAR_DIR": str(var_dir),
        "CASEWORK_SESSION_SECRET": "browser-tests-" + "x" * 32,
    }
    env.pop("CASEWORK_DATABASE_URL", None)
    casework = [sys.executable, "-m", "api.cli"]
    seeded = subprocess.run(
        [*casework, "demo", "seed", *DEMO_ARGS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert seeded.returncode == 0, f"demo seed failed:\n{seeded.stdout}\n{seeded.stderr}"
    port = _free_port()
    log = var_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*casework, "run", "--no-scheduler", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited:\n{log.read_text()}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{base_url}/login", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer in 60 s:\n{log.read_text()}")
            time.sleep(0.2)
        yield Server(base_url, var_dir, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Package-scoped, not session-scoped: Playwright's sync API keeps an asyncio loop running in
# the thread until it stops, and tests after these (the mail senders) call asyncio.run().
@pytest.fixture(scope="package")
def browser(server, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    # Chromium's profile and crash files go to a scratch folder, not the user's configuration.
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path_factory.mktemp("xdg"))}
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS, env=env
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Visitor:
    """Opens pages for one test: a screenshot of each, and axe-core's verdict on each."""

    server: Server
    folder: Path
    count: int = 0
    checked: list[str] = field(default_factory=list)
    # (address, screenshot, axe-core's violations) for each page that had any.
    failures: list[tuple[str, str, list[dict]]] = field(default_factory=list)
    # (address, the browser's message) for each thing the content security policy blocked.
    csp_violations: list[tuple[str, str]] = field(default_factory=list)

    def new_page(self, browser):
        context = browser.new_context(
            base_url=self.server.base_url, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("console", lambda message: self._note_csp(page, message))
        return page

    def _note_csp(self, page, message) -> None:
        # Chromium reports what the policy blocked (an inline script or style, a frame...)
        # on the console: every one fails the test, like an accessibility violation.
        if "Content Security Policy" in message.text:
            self.csp_violations.append((page.url, message.text))

    def visit(self, page, path: str, *, status: int | None = 200):
        """Go to ``path``, then check the page as it stands (see ``check``)."""
        answer = page.goto(path)
        if status is not None:
            assert answer is not None and answer.status == status, (
                f"{path}: HTTP {answer.status if answer else None}, expected {status}"
            )
        self.check(page)
        return answer

    def check(self, page, label: str | None = None) -> None:
        """Screenshot the page as it is now and require axe-core to find no violation."""
        self.count += 1
        slug = label or (page.url.split("://", 1)[-1].split("/", 1)[-1] or "home")
        slug = re.sub(r"[^a-z0-9]+", "-", slug.lower()).strip("-")[:60] or "home"
        self.folder.mkdir(parents=True, exist_ok=True)
        shot = self.folder / f"{self.count:02d}-{slug}.png"
        _stylesheet_loaded(page)
        page.screenshot(path=str(shot), full_page=True)
        violations = axe(page)
        self.checked.append(page.url)
        if violations:
            # Noted, and the test goes on: it fails at its end with every page's violations
            # (see pytest_runtest_call), so one page's problem does not hide the next page's.
            self.failures.append((page.url, str(shot.relative_to(ROOT)), violations))
            (self.folder / "axe-violations.json").write_text(
                json.dumps(
                    [{"url": u, "screenshot": p, "violations": v} for u, p, v in self.failures],
                    indent=1,
                )
            )

    def report(self) -> str:
        return "\n".join(
            f"axe-core on {url} ({shot}):\n{describe(violations)}"
            for url, shot, violations in self.failures
        )


def _stylesheet_loaded(page) -> None:
    """Other work may rebuild the stylesheet while the tests run: reload once if the page got
    it half-written (axe's colour and target-size checks mean nothing without it)."""
    empty = "() => [...document.styleSheets].some(s => { try { return s.cssRules.length === 0 }"
    empty += " catch (e) { return false } })"
    if page.evaluate(empty):
        page.wait_for_timeout(500)
        page.reload()


# axe-core is served as if from the site itself, so the content security policy stays on
# (script-src 'self') while it runs; the service never ships it.
AXE_PATH = "/__tests__/axe.min.js"
_AXE_ROUTED: weakref.WeakSet = weakref.WeakSet()


def _serve_axe(route) -> None:
    route.fulfill(path=str(AXE), content_type="text/javascript")


def axe(page) -> list[dict]:
    if page.context not in _AXE_ROUTED:
        page.context.route(f"**{AXE_PATH}", _serve_axe)
        _AXE_ROUTED.add(page.context)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_PATH)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    return result["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:10]:
            lines.append(
                f"    {json.dumps(node['target'])}: {node.get('failureSummary', '')!s:.200}"
            )
    return "\n".join(lines)


VISITOR = pytest.StashKey["Visitor"]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    result = yield
    visitor = item.stash.get(VISITOR, None)
    if visitor is not None and visitor.csp_violations:
        listed = "\n".join(f"- {url}: {text}" for url, text in visitor.csp_violations)
        raise AssertionError(f"the content security policy blocked:\n{listed}")
    if visitor is not None and visitor.failures:
        raise AssertionError(
            f"{len(visitor.failures)} page(s) with accessibility violations:\n{visitor.report()}"
        )
    return result


@pytest.fixture
def visitor(server, request) -> Visitor:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    folder = SCREENSHOTS / name
    for old in [*folder.glob("*.png"), *folder.glob("*.json")]:
        old.unlink()
    visitor = Visitor(server, folder)
    request.node.stash[VISITOR] = visitor
    return visitor


@pytest.fixture
def page(browser, visitor):
    page = visitor.new_page(browser)
    try:
        yield page
    finally:
        page.context.close()


@pytest.fixture
def visit(visitor):
    """``visit(page, path)``: open, screenshot and axe-check a page."""
    return visitor.visit


def sign_in(
    visitor: Visitor, page, username: str, password: str = PASSWORD, *, check: bool = True
) -> None:
    """Sign in through the form, ending on the landing page; with ``check``, the sign-in and
    landing pages are screenshotted and checked (a test that checks them itself says no)."""
    if check:
        visitor.visit(page, "/login")
    else:
        page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url.rstrip("/") == visitor.server.base_url, f"{username}: landed on {page.url}"
    if check:
        visitor.check(page, f"{username}-landing")


IN_ERROR_SUMMARY = (
    "() => document.activeElement !== null"
    " && document.activeElement.closest('.govuk-error-summary, .error-summary') !== null"
)


def focus_reaches_error_summary(page, timeout_ms: int = 5000) -> bool:
    """Whether focus moves to the error summary. The design system's script is a module, run
    after the page has parsed, so the summary can be on screen a moment before it takes focus:
    wait for it (a real user lands there within the same moment) rather than look once."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(IN_ERROR_SUMMARY, timeout=timeout_ms)
    except PlaywrightTimeout:
        return False
    return True
