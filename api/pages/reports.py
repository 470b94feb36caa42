"""The LA reports page: persistent and severe absence by school and by year group, the trend over
the year, caseload per officer, deadlines met on time, and attendance before and after each kind
of intervention, for LA managers and officers (each over what they may see).

The figures come from ``workflows.reports``; this module lays out the charts. Every chart is an
inline SVG drawn on the server with its sizes and positions as SVG attributes and its colours by
class (no script, no inline style), titled and described for assistive technology, with a text
summary and the same figures in a table beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Template
from sqlalchemy import select

from api.deps import unit_of_work
from api.pages.common import FormError, la_name, me, render, words
from casework.analytics.totals import percent_text
from casework.models import School
from casework.vocabulary import OPEN_STAGES, Role
from workflows import reports
from workflows.context import Context

READERS = (Role.LA_MANAGER, Role.STATUTORY_OFFICER, Role.TRADED_OFFICER)

# --- chart geometry -----------------------------------------------------------------------------

WIDTH = 640
LABEL_RIGHT = 212  # labels end here (text-anchor end)
PLOT_LEFT = 220
PLOT_WIDTH = 340
BAR = 14
BAR_GAP = 2
ROW_GAP = 12
TOP = 8
AXIS = 28
LABEL_CHARACTERS = 30


def short(label: str, limit: int = LABEL_CHARACTERS) -> str:
    """A label cut to fit beside a bar (the full one is in the table and the bar's title)."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


PERCENT_CEILINGS = (4, 8, 12, 20, 40, 60, 80, 100)


def percent_ceiling(value: float) -> float:
    """The axis maximum for percentages: the first of 4, 8, 12, 20, 40, 60, 80 and 100 that
    holds ``value``, so the quarter lines fall on whole numbers (1, 2, 3, 5, 10, 15, 20, 25)."""
    return next((c for c in PERCENT_CEILINGS if value <= c), 100)


def count_ceiling(value: float) -> int:
    """The axis maximum for counts: four equal whole-number steps (1, 2, 3, 5, 10, 20, 25, 30,
    50, ...) reaching at least ``value``."""
    need = max(value, 1) / 4
    power = 1
    while True:
        for step in (1, 2, 2.5, 3, 5):
            size = step * power
            if size >= need and size == int(size):
                return int(size * 4)
        power *= 10


def _number(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str  # what the bar shows, in words (the SVG title of the bar)
    text: str = ""  # the value written after the bar
    text_x: float = 0
    text_y: float = 0


@dataclass(frozen=True)
class ChartRow:
    label: str
    short: str
    y: float  # the label's baseline
    bars: list[Bar]
    note: str = ""  # written where the bars would be when there are none ("None to show")


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: int
    series: list[tuple[str, str]]  # (css modifier, name) for the key
    rows: list[ChartRow] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    plot_top: float = TOP
    plot_bottom: float = 0
    label_right: float = LABEL_RIGHT
    plot_left: float = PLOT_LEFT


def bar_chart(
    id: str,
    title: str,
    description: str,
    series: list[tuple[str, str]],
    rows: list[tuple[str, list[float | None]]],
    *,
    unit: str = "%",
    maximum: float | None = None,
) -> Chart:
    """Horizontal bars, one group per row and one bar per series (a missing value draws none)."""
    values = [v for _, vs in rows for v in vs if v is not None]
    top = maximum or (
        percent_ceiling(max(values, default=0))
        if unit == "%"
        else count_ceiling(max(values, default=0))
    )
    scale = PLOT_WIDTH / top
    group = len(series) * (BAR + BAR_GAP) - BAR_GAP
    laid = []
    y = TOP
    for label, vs in rows:
        bars = []
        for i, ((css, name), value) in enumerate(zip(series, vs, strict=True)):
            if value is None:
                continue
            bar_y = y + i * (BAR + BAR_GAP)
            width = max(value * scale, 0)
            text = percent_text(value) if unit == "%" else _number(value)
            bars.append(
                Bar(
                    PLOT_LEFT,
                    bar_y,
                    round(width, 1),
                    BAR,
                    css,
                    f"{label}: {name} {text}",
                    text,
                    round(PLOT_LEFT + width + 4, 1),
                    bar_y + BAR - 3,
                )
            )
        note = "" if bars else "None to show"
        laid.append(ChartRow(label, short(label), y + group / 2 + 5, bars, note))
        y += group + ROW_GAP
    bottom = y - ROW_GAP + 4
    ticks = [
        Tick(
            round(PLOT_LEFT + PLOT_WIDTH * i / 4, 1),
            bottom + 18,
            (
                percent_text(top * i / 4).replace(".0%", "%")
                if unit == "%"
                else _number(top * i / 4)
            ),
        )
        for i in range(5)
    ]
    return Chart(
        id,
        title,
        description,
        WIDTH,
        int(bottom + AXIS),
        series,
        laid,
        ticks,
        TOP,
        bottom,
    )


def stacked_chart(
    id: str,
    title: str,
    description: str,
    series: list[tuple[str, str]],
    rows: list[tuple[str, list[int]]],
) -> Chart:
    """Horizontal bars, one per row, each split into a segment per series (counts)."""
    top = count_ceiling(max((sum(vs) for _, vs in rows), default=0))
    scale = PLOT_WIDTH / top
    laid = []
    y = TOP
    for label, vs in rows:
        x = PLOT_LEFT
        bars = []
        for (css, name), value in zip(series, vs, strict=True):
            if not value:
                continue
            width = value * scale
            bars.append(
                Bar(round(x, 1), y, round(width, 1), BAR + 4, css, f"{label}: {name} {value}")
            )
            x += width
        total = sum(vs)
        if bars:
            last = bars[-1]
            bars[-1] = Bar(
                last.x,
                last.y,
                last.width,
                last.height,
                last.css,
                last.title,
                str(total),
                round(x + 4, 1),
                y + BAR,
            )
        laid.append(ChartRow(label, short(label), y + BAR - 1, bars))
        y += BAR + 4 + ROW_GAP
    bottom = y - ROW_GAP + 4
    ticks = [
        Tick(round(PLOT_LEFT + PLOT_WIDTH * i / 4, 1), bottom + 18, _number(top * i / 4))
        for i in range(5)
    ]
    return Chart(
        id, title, description, WIDTH, int(bottom + AXIS), series, laid, ticks, TOP, bottom
    )


@dataclass(frozen=True)
class Line:
    css: str
    name: str
    points: str  # the polyline's points attribute
    dots: list[tuple[float, float, str]]  # (cx, cy, title)


@dataclass(frozen=True)
class LineChart:
    id: str
    title: str
    description: str
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    lines: list[Line]
    x_ticks: list[Tick]
    y_ticks: list[Tick]


def line_chart(
    id: str,
    title: str,
    description: str,
    labels: list[str],
    series: list[tuple[str, str, list[float | None]]],
) -> LineChart:
    """Percentages over time: one line per series (css modifier, name, a value per label)."""
    width, height, left, right, top, bottom = WIDTH, 260, 56.0, 620.0, 12.0, 220.0
    values = [v for _, _, vs in series for v in vs if v is not None]
    ceiling = percent_ceiling(max(values, default=0))
    step = (right - left) / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return round(left + step * i if len(labels) > 1 else (left + right) / 2, 1)

    def y(v: float) -> float:
        return round(bottom - (bottom - top) * v / ceiling, 1)

    lines = []
    for css, name, vs in series:
        dots = [
            (x(i), y(v), f"{labels[i]}: {name} {percent_text(v)}")
            for i, v in enumerate(vs)
            if v is not None
        ]
        lines.append(Line(css, name, " ".join(f"{cx},{cy}" for cx, cy, _ in dots), dots))
    x_ticks = [Tick(x(i), bottom + 20, label) for i, label in enumerate(labels)]
    y_ticks = [
        Tick(left, y(ceiling * i / 4), percent_text(ceiling * i / 4).replace(".0%", "%"))
        for i in range(5)
    ]
    return LineChart(
        id, title, description, width, height, left, right, top, bottom, lines, x_ticks, y_ticks
    )


# --- the report's words -----------------------------------------------------------------------


def _highest(rows: list[reports.AbsenceRow], what: str) -> str:
    counted = [r for r in rows if getattr(r, what) is not None]
    if not counted:
        return ""
    top = max(counted, key=lambda r: getattr(r, what))
    return f"{top.label} ({percent_text(getattr(top, what))})"


def absence_summary(rows: list[reports.AbsenceRow], kind: str) -> str:
    if not rows:
        return f"No registers have been recorded for any {kind} this year."
    return (
        f"{len(rows)} {kind}{'s' if len(rows) != 1 else ''}. The highest persistent absence is "
        f"{_highest(rows, 'persistent')}; the highest severe absence is "
        f"{_highest(rows, 'severe')}."
    )


def trend_summary(trend: list[reports.TrendPoint]) -> str:
    points = [p for p in trend if p.absence is not None]
    if not points:
        return "No sessions have been recorded this year."
    first, last = points[0], points[-1]
    worst = max(points, key=lambda p: p.absence or 0)
    return (
        f"Overall absence was {percent_text(first.absence)} in {first.month:%B} and "
        f"{percent_text(last.absence)} in {last.month:%B}; the highest month was "
        f"{worst.month:%B} ({percent_text(worst.absence)}). Persistent absence, year to date, "
        f"is {percent_text(last.persistent_to_date)} of {last.enrolments} enrolments."
    )


def outcome_summary(rows: list[reports.OutcomeRow], weeks: int) -> str:
    judged = [r for r in rows if r.counted]
    if not judged:
        return f"No intervention yet has {weeks_words(weeks)} of register after it to judge by."
    parts = [
        f"{r.label}: {r.counted} judged, median attendance {percent_text(r.median_before)} "
        f"before and {percent_text(r.median_after)} after, {percent_text(r.improved_percent)} "
        "improved"
        for r in judged
    ]
    return "; ".join(parts) + "."


def _scope_words(ctx: Context) -> str:
    role = Role(ctx.actor.role)
    if role == Role.TRADED_OFFICER:
        names = ctx.session.scalars(
            select(School.name).where(ctx.scope.schools()).order_by(School.name)
        ).all()
        return "the schools you serve: " + (", ".join(names) if names else "none")
    if role == Role.STATUTORY_OFFICER:
        return (
            f"absence across {la_name(ctx)}; caseload, deadlines and outcomes for the "
            "statutory cases you can see"
        )
    return f"everything in {la_name(ctx)}"


def _weeks(asked: str | None) -> tuple[int, list[FormError]]:
    if asked is None or asked == "":
        return reports.DEFAULT_WEEKS, []
    try:
        value = int(asked)
    except ValueError:
        value = 0
    if 1 <= value <= reports.MAX_WEEKS:
        return value, []
    return reports.DEFAULT_WEEKS, [
        FormError("weeks", f"Enter a whole number of weeks from 1 to {reports.MAX_WEEKS}")
    ]


def stage_css(stage: str) -> str:
    """A stage's colour class, the same on every chart (by its place in the support-first
    order; any other stage the last colour)."""
    order = [s.value for s in OPEN_STAGES]
    return f"stage-{order.index(stage) + 1 if stage in order else len(order) + 1}"


def weeks_words(n: int) -> str:
    return f"{n} school week{'s' if n != 1 else ''}"


ABSENCE_SERIES = [("persistent", "Persistent absence"), ("severe", "Severe absence")]
OUTCOME_SERIES = [("before", "Median before"), ("after", "Median after")]


def report_context(ctx: Context, weeks: int) -> dict[str, Any]:
    today = ctx.today()
    absence = reports.absence_report(ctx, today)
    stages, caseload = reports.caseload(ctx)
    deadlines = reports.deadlines_report(ctx)
    outcomes = reports.outcomes(ctx, today, weeks)
    stage_series = [(stage_css(s), words(s)) for s in stages]
    return {
        "me": me(ctx),
        "active_section": "reports",
        "scope_words": _scope_words(ctx),
        "as_at": today,
        "weeks": weeks,
        "weeks_words": weeks_words(weeks),
        "max_weeks": reports.MAX_WEEKS,
        "absence": absence,
        "school_chart": bar_chart(
            "chart-schools",
            "Persistent and severe absence by school",
            absence_summary(absence.by_school, "school"),
            ABSENCE_SERIES,
            [(r.label, [r.persistent, r.severe]) for r in absence.by_school],
        ),
        "school_summary": absence_summary(absence.by_school, "school"),
        "year_chart": bar_chart(
            "chart-years",
            "Persistent and severe absence by year group",
            absence_summary(absence.by_year_group, "year group"),
            ABSENCE_SERIES,
            [(r.label, [r.persistent, r.severe]) for r in absence.by_year_group],
        ),
        "year_summary": absence_summary(absence.by_year_group, "year group"),
        "trend_chart": line_chart(
            "chart-trend",
            "Absence month by month",
            trend_summary(absence.trend),
            [f"{p.month:%b}" for p in absence.trend],
            [
                ("absence", "Overall absence in the month", [p.absence for p in absence.trend]),
                (
                    "persistent",
                    "Persistent absence, year to date",
                    [p.persistent_to_date for p in absence.trend],
                ),
            ],
        ),
        "trend_summary": trend_summary(absence.trend),
        "stages": stages,
        "stage_series": stage_series,
        "caseload": caseload,
        "caseload_chart": stacked_chart(
            "chart-caseload",
            "Open cases by officer and stage",
            f"{sum(c.total for c in caseload)} open cases held by {len(caseload)} people.",
            stage_series,
            [(c.name, [c.by_stage.get(s, 0) for s in stages]) for c in caseload],
        ),
        "deadlines": deadlines,
        "deadline_kind_chart": bar_chart(
            "chart-deadline-kinds",
            "Deadlines met on time, by kind",
            f"{percent_text(deadlines.overall.on_time_percent)} of "
            f"{deadlines.overall.total} deadlines that came due were met on time.",
            [("on-time", "Met on time")],
            [(t.label, [t.on_time_percent]) for t in deadlines.by_kind],
            maximum=100,
        ),
        "deadline_officer_chart": bar_chart(
            "chart-deadline-officers",
            "Deadlines met on time, by officer",
            "The share of each officer's deadlines met on time (by who holds the case now).",
            [("on-time", "Met on time")],
            [(t.label, [t.on_time_percent]) for t in deadlines.by_officer],
            maximum=100,
        ),
        "outcomes": outcomes,
        "outcome_chart": bar_chart(
            "chart-outcomes",
            f"Median attendance {weeks_words(weeks)} before and after",
            outcome_summary(outcomes, weeks),
            OUTCOME_SERIES,
            [(r.label, [r.median_before, r.median_after]) for r in outcomes],
            maximum=100,
        ),
        "outcome_summary": outcome_summary(outcomes, weeks),
    }


class ReportPages(Controller):
    include_in_schema = False

    @get("/reports", sync_to_thread=True)
    def reports(
        self,
        request: Request,
        weeks: Annotated[str | None, QueryParameter(max_length=6)] = None,
    ) -> Template:
        """The LA reports (LA managers, statutory and traded officers; 403 for anyone else)."""
        chosen, errors = _weeks(weeks)
        with unit_of_work(request) as ctx:
            ctx.require_role(*READERS, doing="see the local authority's reports")
            context = report_context(ctx, chosen)
        context["errors"] = errors
        context["asked_weeks"] = weeks if errors else str(chosen)
        return render("reports.html", context, status=422 if errors else 200)
