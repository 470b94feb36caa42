"""Every route of the app is classified for the audit log: audited as a record type, or not
audited on purpose. A new route without an entry in ``api.audit.ROUTES`` fails here."""

from __future__ import annotations

import pytest

from api.audit import ROUTES, UNAUDITED_PREFIXES, UNCLASSIFIED, Audited, classify, route_key
from casework.audit import ACTIONS


@pytest.fixture(scope="module")
def app_routes(tmp_path_factory) -> set[str]:
    from api.app import create_app
    from casework.db import make_engine
    from config.settings import Settings

    settings = Settings(
        database_url="sqlite://",
        var_dir=tmp_path_factory.mktemp("var"),
        session_secret=b"test-secret",
    )
    app = create_app(settings, engine=make_engine("sqlite://"), migrate=False)
    found = set()
    for route in app.routes:
        if route.path_format.startswith(UNAUDITED_PREFIXES):
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in getattr(handler, "http_methods", ()) or ():
                if method not in ("OPTIONS", "HEAD"):
                    found.add(route_key(method, route.path_format))
    return found


def test_every_route_is_classified(app_routes):
    missing = sorted(key for key in app_routes if key not in ROUTES)
    assert missing == [], "classify these routes in api.audit.ROUTES (or NOT_AUDITED)"


def test_the_table_names_no_route_that_does_not_exist(app_routes):
    assert sorted(set(ROUTES) - app_routes) == []


def test_every_audited_route_names_a_known_action_and_its_path_parameter():
    for key, spec in ROUTES.items():
        if spec is None:
            continue
        _, path = key.split(" ", 1)
        assert spec.action is None or spec.action in ACTIONS, key
        if spec.id_param:
            assert "{" + spec.id_param + "}" in path, key


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/pupils/{pupil_id}", Audited("pupil", "pupil_id")),
        ("OPTIONS", "/pupils/{pupil_id}", None),
        ("GET", "/static/{file_path}", None),
        ("GET", "/schema/openapi.json", None),
        ("GET", "/a-route-nobody-classified", UNCLASSIFIED),
    ],
)
def test_classify(method, path, expected):
    assert classify(method, path) == expected
