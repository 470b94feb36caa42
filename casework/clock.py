"""The clock port: services ask it for the time so tests (and demo histories) can set it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that says what it is told; ``set`` moves it."""

    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at


def today(clock: Clock) -> date:
    # Casework runs on English school days: the UK date, not UTC's, decides what "today" is.
    from zoneinfo import ZoneInfo

    return clock.now().astimezone(ZoneInfo("Europe/London")).date()
