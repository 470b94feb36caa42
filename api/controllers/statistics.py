"""Absence statistics with the DfE's column names and formulas, for what the user may see."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import QueryParameter

from api.deps import unit_of_work
from casework.errors import InvalidInput
from workflows.absence_statistics import GROUPINGS, absence_statistics


class StatisticsController(Controller):
    path = "/statistics"
    tags = ["statistics"]

    @get("/absence", sync_to_thread=True)
    def absence(
        self,
        request: Request,
        by: Annotated[str, QueryParameter(max_length=10)] = "all",
        as_at: Annotated[str | None, QueryParameter(max_length=10)] = None,
    ) -> list[dict[str, Any]]:
        """Year to date: ``by=all`` (one row), ``school`` or ``cohort`` (FSM, SEN support, EHC
        plan, looked after, social worker, young carer, EAL, year group, sex)."""
        if by not in GROUPINGS:
            raise InvalidInput.one("by", by, f"one of {', '.join(GROUPINGS)}")
        day = None
        if as_at:
            try:
                day = date.fromisoformat(as_at)
            except ValueError:
                raise InvalidInput.one("as_at", as_at, "a date is YYYY-MM-DD") from None
        with unit_of_work(request) as ctx:
            return absence_statistics(ctx, as_at=day, by=by)
