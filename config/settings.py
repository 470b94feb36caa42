"""Runtime settings, read from the environment (``CASEWORK_*``) with development defaults."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


def _default_var_dir() -> Path:
    return Path(os.environ.get("CASEWORK_VAR_DIR", "var")).resolve()


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


@dataclass(frozen=True)
class Settings:
    database_url: str
    var_dir: Path
    session_secret: bytes
    session_max_age_seconds: int = 8 * 3600
    secure_cookies: bool = False
    register_retention_years: int = MIN_REGISTER_RETENTION_YEARS
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_retention(self.register_retention_years, self.register_retention_years)

    @classmethod
    def from_env(cls) -> Settings:
        retention = register_retention_years()  # refused before anything is written
        var_dir = _default_var_dir()
        url = os.environ.get("CASEWORK_DATABASE_URL") or f"sqlite:///{var_dir / 'casework.db'}"
        return cls(
            database_url=url,
            var_dir=var_dir,
            session_secret=_session_secret(var_dir),
            session_max_age_seconds=int(os.environ.get("CASEWORK_SESSION_MAX_AGE", 8 * 3600)),
            secure_cookies=os.environ.get("CASEWORK_SECURE_COOKIES", "0") == "1",
            register_retention_years=retention,
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
