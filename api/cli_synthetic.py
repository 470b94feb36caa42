"""``casework synthetic ...``: invented register files calibrated to the national statistics."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click


@click.group("synthetic")
def synthetic() -> None:
    """Synthetic schools, pupils and register files (invented people only)."""


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2025-07-18") from None


@synthetic.command("county")
@click.option("--pupils", default=250_000, show_default=True, type=click.IntRange(1))
@click.option(
    "--schools",
    type=click.IntRange(1),
    help="Number of schools (about 80 % primary, 15 % secondary, 4 % special). "
    "Default: one per 1,250 pupils.",
)
@click.option("--la", "la_number", default="340", show_default=True, help="3-digit LA number.")
@click.option(
    "--calendar",
    "calendar_key",
    help="Calendar file in config/calendars (default: the LA's own, e.g. knowsley for 340, "
    "else national).",
)
@click.option(
    "--year",
    "academic_year",
    type=int,
    help="Academic year by its first calendar year (2024 = 2024/25). Default: the year "
    "--as-at falls in, else the current one.",
)
@click.option(
    "--as-at",
    callback=_date,
    help="Registers are marked up to this day (YYYY-MM-DD); later sessions are left unmarked. "
    "Default: the whole year.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the files into (created if needed).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["ctf", "csv", "both"]),
    default="both",
    show_default=True,
    help="CTF XML, canonical CSV (one row per session: about 3 GB for 250,000 pupils over a "
    "whole year), or both.",
)
@click.option("--seed", default=1, show_default=True, type=int)
def county(
    pupils: int,
    schools: int | None,
    la_number: str,
    calendar_key: str | None,
    academic_year: int | None,
    as_at: date | None,
    out_dir: Path,
    fmt: str,
    seed: int,
) -> None:
    """Write one register file per synthetic school in an LA, then compare the county's
    absence with the national 2023/24 figures it is calibrated to."""
    from casework.calendars.model import academic_year_of, long_date, year_label
    from casework.synthetic.files import write_county
    from casework.synthetic.population import school_sizes, synthetic_schools

    if not (len(la_number) == 3 and la_number.isdigit()):
        raise click.BadParameter("an LA number is 3 digits, e.g. 340", param_hint="--la")
    if academic_year is None:
        academic_year = academic_year_of(as_at or date.today())
    count = schools or max(1, round(pupils / 1250))
    try:
        county_schools = synthetic_schools(
            la_number, count, academic_year=academic_year, calendar_key=calendar_key
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    sizes = school_sizes(county_schools, pupils, seed=seed)
    formats = {"ctf", "csv"} if fmt == "both" else {fmt}
    with click.progressbar(length=pupils, label=f"Writing {count} schools' files") as bar:
        summary = write_county(
            out_dir,
            county_schools,
            sizes,
            seed,
            as_at,
            formats,
            academic_year=academic_year,
            on_school=lambda school, n: bar.update(n),
        )
    r, t = summary.realised, summary.targets
    until = f" to {long_date(as_at)}" if as_at else ""
    click.echo(
        f"\n{summary.pupils:,} pupils in {summary.schools} schools, LA {la_number}, "
        f"{year_label(academic_year)}{until}: {r.possible:,} possible sessions"
    )
    click.echo(f"  {'':24}{'realised':>10}{'target':>10}")
    rows = [
        ("overall absence", r.overall_rate, t.overall),
        ("authorised", r.authorised_rate, t.authorised),
        ("unauthorised", r.unauthorised_rate, t.unauthorised),
        ("persistent (>= 10 %)", r.persistent_rate, t.persistent),
        ("severe (>= 50 %)", r.severe_rate, t.severe),
        ("illness (I)", r.code_rate("I"), t.illness),
        ("unauthorised other (O)", r.code_rate("O"), t.unauthorised_other),
        ("holiday not granted (G)", r.code_rate("G"), t.unauthorised_holiday),
    ]
    for label, got, want in rows:
        click.echo(f"  {label:<24}{got * 100:>9.2f}%{want * 100:>9.1f}%")
    click.echo(f"Targets: {t.name}, {t.source}")
    click.echo(
        f"Wrote {len(summary.files)} files ({summary.bytes_written / 1e6:,.1f} MB) to {out_dir}"
    )
