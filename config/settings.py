"""Runtime settings, read from the environment (``CASEWORK_*``) with development defaults."""

from __future__ import annotations

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
    session_max_age_seconds: int = 8 * 3600
    secure_cookies: bool = False
    register_retention_years: int = MIN_REGISTER_RETENTION_YEARS
    extra: dict[str, str] = field(default_factory=dict)
    mail: MailSettings = field(default_factory=MailSettings)

    def __post_init__(self) -> None:
        _check_retention(self.register_retention_years, self.register_retention_years)

    @classmethod
    def from_env(cls) -> Settings:
        retention = register_retention_years()  # refused before anything is written
        mail = mail_settings()
        var_dir = _default_var_dir()
        url = os.environ.get("CASEWORK_DATABASE_URL") or f"sqlite:///{var_dir / 'casework.db'}"
        return cls(
            database_url=url,
            var_dir=var_dir,
            session_secret=_session_secret(var_dir),
            session_max_age_seconds=int(os.environ.get("CASEWORK_SESSION_MAX_AGE", 8 * 3600)),
            secure_cookies=os.environ.get("CASEWORK_SECURE_COOKIES", "0") == "1",
            register_retention_years=retention,
            mail=mail,
        )


def _session_secret(var_dir: Path) -> bytes:
    """CASEWORK_SESSION_SECRET in production; in development a random secret kept under var/."""
    configured = os.environ.get("CASEWORK_SESSION_SECRET")
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
