"""Runtime settings, read from the environment (``CASEWORK_*``) with development defaults."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


def _default_var_dir() -> Path:
    return Path(os.environ.get("CASEWORK_VAR_DIR", "var")).resolve()


def default_var_dir() -> Path:
    """``CASEWORK_VAR_DIR`` (default ``./var``): the database, development mail, secrets."""
    return _default_var_dir()


# Attendance registers are kept at least 6 years (the 2024 Regulations); an LA may keep longer.
MIN_REGISTER_RETENTION_YEARS = 6
RETENTION_VARIABLE = "CASEWORK_REGISTER_RETENTION_YEARS"


def register_retention_years(environ: Mapping[str, str] = os.environ) -> int:
    """``CASEWORK_REGISTER_RETENTION_YEARS`` (default 6); ValueError naming the variable, the
    value and the rule for anything that is not a whole number of years from 6 up."""
    raw = environ.get(RETENTION_VARIABLE, "").strip()
    if not raw:
        return MIN_REGISTER_RETENTION_YEARS
    try:
        years = int(raw)
    except ValueError:
        raise ValueError(
            f"{RETENTION_VARIABLE}={raw!r} is refused: give a whole number of years, "
            f"at least {MIN_REGISTER_RETENTION_YEARS}"
        ) from None
    _check_retention(years, raw)
    return years


def _check_retention(years: int, given: object) -> None:
    if years < MIN_REGISTER_RETENTION_YEARS:
        raise ValueError(
            f"{RETENTION_VARIABLE}={given} is refused: attendance registers must be kept at "
            f"least {MIN_REGISTER_RETENTION_YEARS} years from the end of each academic year "
            "(the 2024 Regulations); set 6 or more, or leave it unset"
        )


# Outgoing email (notifications/): which sender, how to reach the SMTP server, how hard to try.
# Chosen by settings only; a bad value is refused at start-up naming the variable, the value and
# the rule, before anything is queued or sent.
MAIL_BACKENDS = ("file", "smtp")
SMTP_SECURITIES = ("starttls", "tls", "none")
SMTP_DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
DEFAULT_MAIL_MAX_ATTEMPTS = 8
MAX_MAIL_ATTEMPTS = 50
_HOST = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_DOMAIN = re.compile(
    r"^(?=.{1,200}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def _refuse(variable: str, value: object, rule: str) -> ValueError:
    return ValueError(f"{variable}={value!r} is refused: {rule}")


@dataclass(frozen=True)
class MailSettings:
    """``CASEWORK_MAIL_*`` and ``CASEWORK_SMTP_*``. Development default: ``.eml`` files under
    ``<var_dir>/mail``, so nothing leaves the machine."""

    backend: str = "file"
    smtp_host: str | None = None
    # None: the usual port for the security chosen (587 STARTTLS, 465 TLS, 25 none).
    smtp_port: int | None = None
    smtp_security: str = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)  # never in a log line
    smtp_timeout_seconds: float = 30.0
    max_attempts: int = DEFAULT_MAIL_MAX_ATTEMPTS
    # The right-hand side of every Message-ID; None: the domain of the LA's from-address.
    message_id_domain: str | None = None

    def __post_init__(self) -> None:
        if self.backend not in MAIL_BACKENDS:
            raise _refuse("CASEWORK_MAIL_BACKEND", self.backend, "give file or smtp")
        if self.smtp_security not in SMTP_SECURITIES:
            raise _refuse(
                "CASEWORK_SMTP_SECURITY", self.smtp_security, "give starttls, tls or none"
            )
        if self.smtp_port is not None and not 1 <= self.smtp_port <= 65535:
            raise _refuse("CASEWORK_SMTP_PORT", self.smtp_port, "give a port from 1 to 65535")
        if self.backend == "smtp" and not self.smtp_host:
            raise _refuse(
                "CASEWORK_SMTP_HOST", self.smtp_host or "", "the smtp mail backend needs a host"
            )
        if self.smtp_host is not None and not _HOST.match(self.smtp_host):
            raise _refuse("CASEWORK_SMTP_HOST", self.smtp_host, "give a host name or IPv4 address")
        if bool(self.smtp_username) != bool(self.smtp_password):
            given = "CASEWORK_SMTP_USERNAME" if self.smtp_username else "CASEWORK_SMTP_PASSWORD"
            value = self.smtp_username if self.smtp_username else "(hidden)"
            raise _refuse(given, value, "set both CASEWORK_SMTP_USERNAME and _PASSWORD, or neither")
        if self.smtp_username and self.smtp_security == "none":
            raise _refuse(
                "CASEWORK_SMTP_SECURITY",
                self.smtp_security,
                "signing in to the SMTP server needs starttls or tls, or the password would "
                "cross the network unencrypted",
            )
        if not 1 <= self.smtp_timeout_seconds <= 600:
            raise _refuse(
                "CASEWORK_SMTP_TIMEOUT",
                self.smtp_timeout_seconds,
                "give a number of seconds from 1 to 600",
            )
        if not 1 <= self.max_attempts <= MAX_MAIL_ATTEMPTS:
            raise _refuse(
                "CASEWORK_MAIL_MAX_ATTEMPTS",
                self.max_attempts,
                f"give a whole number of attempts from 1 to {MAX_MAIL_ATTEMPTS}",
            )
        if self.message_id_domain is not None and not _DOMAIN.match(self.message_id_domain):
            raise _refuse(
                "CASEWORK_MAIL_DOMAIN",
                self.message_id_domain,
                "give a domain name such as mail.example.org",
            )

    @property
    def port(self) -> int:
        return self.smtp_port or SMTP_DEFAULT_PORTS[self.smtp_security]


def _whole(environ: Mapping[str, str], variable: str, rule: str) -> int | None:
    raw = environ.get(variable, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise _refuse(variable, raw, rule) from None


def mail_settings(environ: Mapping[str, str] = os.environ) -> MailSettings:
    """Read and check the mail settings; ValueError naming the variable, value and rule."""

    def text(variable: str) -> str | None:
        return environ.get(variable, "").strip() or None

    timeout = text("CASEWORK_SMTP_TIMEOUT")
    try:
        seconds = float(timeout) if timeout else 30.0
    except ValueError:
        raise _refuse("CASEWORK_SMTP_TIMEOUT", timeout, "give a number of seconds") from None
    attempts = _whole(
        environ, "CASEWORK_MAIL_MAX_ATTEMPTS", "give a whole number of attempts, e.g. 8"
    )
    return MailSettings(
        backend=(text("CASEWORK_MAIL_BACKEND") or "file").lower(),
        smtp_host=text("CASEWORK_SMTP_HOST"),
        smtp_port=_whole(environ, "CASEWORK_SMTP_PORT", "give a port from 1 to 65535"),
        smtp_security=(text("CASEWORK_SMTP_SECURITY") or "starttls").lower(),
        smtp_username=text("CASEWORK_SMTP_USERNAME"),
        # A password may begin or end with a space: only an empty one counts as unset.
        smtp_password=environ.get("CASEWORK_SMTP_PASSWORD") or None,
        smtp_timeout_seconds=seconds,
        max_attempts=DEFAULT_MAIL_MAX_ATTEMPTS if attempts is None else attempts,
        message_id_domain=text("CASEWORK_MAIL_DOMAIN"),
    )


# Links in emails point here (``CASEWORK_BASE_URL``): the address people open Casework at.
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def base_url(environ: Mapping[str, str] = os.environ) -> str:
    """``CASEWORK_BASE_URL`` without a trailing slash (default http://127.0.0.1:8000)."""
    raw = environ.get("CASEWORK_BASE_URL", "").strip() or DEFAULT_BASE_URL
    if not re.match(r"^https?://[^\s/]+(/[^\s]*)?$", raw):
        raise _refuse("CASEWORK_BASE_URL", raw, "give an http:// or https:// address")
    return raw.rstrip("/")


@dataclass(frozen=True)
class Settings:
    database_url: str
    var_dir: Path
    session_secret: bytes
    session_max_age_seconds: int = 10 * 3600
    secure_cookies: bool = False
    register_retention_years: int = MIN_REGISTER_RETENTION_YEARS
    extra: dict[str, str] = field(default_factory=dict)
    mail: MailSettings = field(default_factory=MailSettings)
    # Transport and deployment (issue 9), read by ``transport_settings``:
    # ``CASEWORK_ENV``: development (default), demo or production. Production refuses to start
    # without its own ``CASEWORK_SESSION_SECRET`` and turns secure cookies and TLS on by default.
    environment: str = "development"
    # ``CASEWORK_TLS``: the service is reached over HTTPS (default on in production), so every
    # response carries Strict-Transport-Security. A request arriving as https gets it anyway.
    tls: bool = False
    # Sign-in hardening (issue 9; ``api.auth``, ``workflows.sign_in``): a session ends after
    # ``CASEWORK_SESSION_IDLE`` seconds unused (``CASEWORK_SESSION_MAX_AGE`` is the absolute
    # limit); an account locks after ``CASEWORK_SIGN_IN_MAX_FAILURES`` wrong tries in a row; an
    # address with ``CASEWORK_SIGN_IN_ADDRESS_FAILURES`` failures in ``CASEWORK_SIGN_IN_WINDOW``
    # seconds is refused for the rest of that window.
    session_idle_seconds: int = 30 * 60
    # ``CASEWORK_TRUSTED_PROXIES``: the reverse proxies (addresses or networks) whose
    # X-Forwarded-For and X-Forwarded-Proto are believed. Without it every request's address is
    # its connection's, so behind a proxy every user would share the proxy's sign-in throttle.
    trusted_proxies: tuple[str, ...] = ()
    sign_in_max_failures: int = 5
    sign_in_address_failures: int = 20
    sign_in_window_seconds: int = 15 * 60

    def __post_init__(self) -> None:
        _check_retention(self.register_retention_years, self.register_retention_years)
        if self.environment not in ENVIRONMENTS:
            raise _refuse("CASEWORK_ENV", self.environment, "give development, demo or production")

    @classmethod
    def from_env(cls) -> Settings:
        retention = register_retention_years()  # refused before anything is written
        mail = mail_settings()
        var_dir = _default_var_dir()
        url = os.environ.get("CASEWORK_DATABASE_URL") or f"sqlite:///{var_dir / 'casework.db'}"
        transport = transport_settings()
        return cls(
            database_url=url,
            var_dir=var_dir,
            session_secret=_session_secret(var_dir, production=transport.production),
            session_max_age_seconds=_positive("CASEWORK_SESSION_MAX_AGE", 10 * 3600),
            session_idle_seconds=_positive("CASEWORK_SESSION_IDLE", 30 * 60),
            sign_in_max_failures=_positive("CASEWORK_SIGN_IN_MAX_FAILURES", 5),
            sign_in_address_failures=_positive("CASEWORK_SIGN_IN_ADDRESS_FAILURES", 20),
            sign_in_window_seconds=_positive("CASEWORK_SIGN_IN_WINDOW", 15 * 60),
            secure_cookies=transport.secure_cookies,
            register_retention_years=retention,
            mail=mail,
            environment=transport.environment,
            tls=transport.tls,
            trusted_proxies=trusted_proxies(),
        )


def _positive(variable: str, default: int, environ: Mapping[str, str] = os.environ) -> int:
    """A whole number from 1 up (seconds, attempts), or the default when unset."""
    value = _whole(environ, variable, "give a whole number from 1 up")
    if value is None:
        return default
    if value < 1:
        raise _refuse(variable, value, "give a whole number from 1 up")
    return value


# --- Transport and deployment: secure defaults in production (issue 9) ---------------------
ENVIRONMENTS = ("development", "demo", "production")
# A production session secret must be long and random: it encrypts every session cookie.
MIN_SESSION_SECRET_LENGTH = 32
_FLAGS = {"1": True, "true": True, "yes": True, "on": True,
          "0": False, "false": False, "no": False, "off": False}  # fmt: skip


@dataclass(frozen=True)
class TransportSettings:
    environment: str
    secure_cookies: bool
    tls: bool

    @property
    def production(self) -> bool:
        return self.environment == "production"


def _flag(environ: Mapping[str, str], variable: str, default: bool) -> bool:
    raw = environ.get(variable, "").strip().lower()
    if not raw:
        return default
    if raw not in _FLAGS:
        raise _refuse(variable, raw, "give 1 or 0")
    return _FLAGS[raw]


def transport_settings(environ: Mapping[str, str] = os.environ) -> TransportSettings:
    """``CASEWORK_ENV`` (development, demo or production; default development),
    ``CASEWORK_SECURE_COOKIES`` (cookies only over HTTPS; default on in production) and
    ``CASEWORK_TLS`` (served over HTTPS, so HSTS is sent; default on in production)."""
    environment = environ.get("CASEWORK_ENV", "").strip().lower() or "development"
    if environment not in ENVIRONMENTS:
        raise _refuse("CASEWORK_ENV", environment, "give development, demo or production")
    production = environment == "production"
    return TransportSettings(
        environment=environment,
        secure_cookies=_flag(environ, "CASEWORK_SECURE_COOKIES", production),
        tls=_flag(environ, "CASEWORK_TLS", production),
    )


def trusted_proxies(environ: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    """``CASEWORK_TRUSTED_PROXIES``: IP addresses or networks (CIDR), separated by commas; none
    by default. "*" is refused: it would let anyone choose the address the throttle counts."""
    variable = "CASEWORK_TRUSTED_PROXIES"
    found = []
    for item in (part.strip() for part in environ.get(variable, "").split(",")):
        if not item:
            continue
        try:
            if "/" in item:
                ipaddress.ip_network(item, strict=True)
            else:
                ipaddress.ip_address(item)
        except ValueError:
            rule = "give IP addresses or networks (e.g. 10.0.0.0/24) separated by commas"
            raise _refuse(variable, item, rule) from None
        found.append(item)
    return tuple(found)


def _session_secret(var_dir: Path, *, production: bool = False) -> bytes:
    """CASEWORK_SESSION_SECRET in production (required, 32+ characters: a production service
    never falls back to a secret on local disk); in development a random secret kept under var/."""
    configured = os.environ.get("CASEWORK_SESSION_SECRET")
    if production and (not configured or len(configured) < MIN_SESSION_SECRET_LENGTH):
        raise _refuse(
            "CASEWORK_SESSION_SECRET",
            "(hidden)" if configured else "",
            f"production (CASEWORK_ENV=production) needs a random secret of at least "
            f"{MIN_SESSION_SECRET_LENGTH} characters",
        )
    if configured:
        return configured.encode()
    path = var_dir / "session-secret"
    if path.exists():
        return path.read_bytes()
    var_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32).encode()
    path.write_bytes(secret)
    path.chmod(0o600)
    return secret
