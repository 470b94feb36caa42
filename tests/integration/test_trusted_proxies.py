"""Behind a reverse proxy: the sign-in throttle counts the client's own address (from the
X-Forwarded-For of a proxy named in CASEWORK_TRUSTED_PROXIES), never a header anyone else sent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from api.app import create_app
from casework.models import SignInAttempt
from config.settings import Settings, trusted_proxies
from tests.support.csrf import csrf_client

# Litestar's test client connects from this host name: the "proxy" in these tests.
PROXY = "testclient"


def _app(db, clock, tmp_path, proxies: tuple[str, ...]):
    settings = Settings(
        database_url=db.url,
        var_dir=tmp_path,
        session_secret=b"test-secret",
        trusted_proxies=proxies,
    )
    return create_app(settings, engine=db.engine, clock=clock, migrate=False)


def _recorded_addresses(db) -> list[str]:
    with db.factory() as session:
        return list(session.scalars(select(SignInAttempt.address).order_by(SignInAttempt.id)))


def _fail_from(client, forwarded_for: str) -> int:
    response = client.post(
        "/api/auth/login",
        json={"username": "nobody-here", "password": "not-the-password"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


def test_a_trusted_proxy_gives_each_client_its_own_throttle(db, clock, tmp_path):
    app = _app(db, clock, tmp_path, (PROXY,))
    with csrf_client(app) as client:
        # 20 failures from one address behind the proxy: that address is refused...
        for _ in range(20):
            assert _fail_from(client, "203.0.113.7") == 401
        assert _fail_from(client, "203.0.113.7") == 429
        # ...and another person behind the same proxy is not.
        assert _fail_from(client, "198.51.100.20") == 401
    assert set(_recorded_addresses(db)) == {"203.0.113.7", "198.51.100.20"}


def test_the_client_is_the_rightmost_address_the_proxies_did_not_add(db, clock, tmp_path):
    # A client may send its own X-Forwarded-For; the proxy appends the address it saw. Only the
    # address next to a trusted proxy counts, so a forged first entry changes nothing.
    app = _app(db, clock, tmp_path, (PROXY, "10.0.0.0/8"))
    with csrf_client(app) as client:
        _fail_from(client, "192.0.2.99, 203.0.113.7, 10.1.2.3")
    assert _recorded_addresses(db) == ["203.0.113.7"]


def test_without_trusted_proxies_a_forwarded_header_is_ignored(db, clock, tmp_path):
    app = _app(db, clock, tmp_path, ())
    with csrf_client(app) as client:
        for n in range(20):
            assert _fail_from(client, f"203.0.113.{n}") == 401
        # Changing the header does not escape the throttle: the connection's address counts.
        assert _fail_from(client, "198.51.100.20") == 429
    assert set(_recorded_addresses(db)) == {PROXY}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", ()),
        ("10.0.0.5", ("10.0.0.5",)),
        (" 10.0.0.5 , 192.168.0.0/16 ", ("10.0.0.5", "192.168.0.0/16")),
        ("::1,fd00::/8", ("::1", "fd00::/8")),
        ("10.0.0.5,,", ("10.0.0.5",)),
    ],
)
def test_trusted_proxies_are_read_as_addresses_and_networks(given, expected):
    assert trusted_proxies({"CASEWORK_TRUSTED_PROXIES": given}) == expected


@pytest.mark.parametrize(
    "given",
    ["*", "proxy.example.org", "10.0.0.300", "10.0.0.1/8", "10.0.0.0/33"],
)
def test_anything_but_an_address_or_network_is_refused_naming_it(given):
    with pytest.raises(ValueError) as refused:
        trusted_proxies({"CASEWORK_TRUSTED_PROXIES": f"10.0.0.5,{given}"})
    message = str(refused.value)
    assert message.startswith(f"CASEWORK_TRUSTED_PROXIES={given!r} is refused")
    assert "IP addresses or networks" in message


@pytest.mark.parametrize(("proxies", "hsts"), [((PROXY,), True), ((), False)])
def test_https_at_a_trusted_proxy_sends_strict_transport_security(
    db, clock, tmp_path, proxies, hsts
):
    app = _app(db, clock, tmp_path, proxies)
    with csrf_client(app) as client:
        response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert ("strict-transport-security" in response.headers) is hsts
