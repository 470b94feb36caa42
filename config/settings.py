"""Runtime settings, read from the environment (``CASEWORK_*``) with development defaults."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


def _default_var_dir() -> Path:
    return Path(os.environ.get("CASEWORK_VAR_DIR", "var")).resolve()


@dataclass(frozen=True)
class Settings:
    database_url: str
    var_dir: Path
    session_secret: bytes
    session_max_age_seconds: int = 8 * 3600
    secure_cookies: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        var_dir = _default_var_dir()
        url = os.environ.get("CASEWORK_DATABASE_URL") or f"sqlite:///{var_dir / 'casework.db'}"
        return cls(
            database_url=url,
            var_dir=var_dir,
            session_secret=_session_secret(var_dir),
            session_max_age_seconds=int(os.environ.get("CASEWORK_SESSION_MAX_AGE", 8 * 3600)),
            secure_cookies=os.environ.get("CASEWORK_SECURE_COOKIES", "0") == "1",
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
