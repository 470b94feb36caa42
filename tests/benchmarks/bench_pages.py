"""Benchmark: "My work" and the caseload page under load, on PostgreSQL.

Generates a synthetic LA (100,000 cases and 1,000,000 case events by default, with schools,
users, pupils, deadlines, flags and failed messages; everything bulk-loaded with COPY), serves the
app with uvicorn on 127.0.0.1 in a subprocess, signs in 20 users of different roles and has them
ask for My work and the caseload page (default order, a filter, another sort) as fast as the
server answers, for N seconds. Prints median, p95 and p99 per page and requests per second, and
two references measured in the same run: a static file served by the same server under the same
load, and each page's main SQL query run directly. Target: p95 under 100 ms. Asserts nothing.

    python -m tests.benchmarks.bench_pages [--cases 100000] [--events 1000000] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy import text

from api.csrf import COOKIE, HEADER
from casework.db import bulk_insert, make_engine, make_session_factory
from casework.models import (
    Case,
    CaseEvent,
    Enrolment,
    OutboxMessage,
    Pupil,
    PupilFlag,
    School,
    User,
    UserSchool,
)
from casework.models.deadlines import Deadline
from casework.upn import make_upn
from tests.conftest import _seed
from tests.support.postgres import pg_admin, scratch_database, url_of
from tests.support.world import PASSWORD

SCHOOLS = 100
TRADED = 20  # each serves SCHOOLS / TRADED schools
STATUTORY = 10
TODAY = date.today()
STAGES = (
    ("monitor", "school", 0.35),
    ("listen_and_understand", "school", 0.25),
    ("facilitate_support", "traded", 0.22),
    ("formalise_support", "statutory", 0.12),
    ("enforce", "statutory", 0.06),
)
FLAGS = ("persistent_absence", "severe_absence", "below_95", "penalty_threshold")


def _user_row(n: int, username: str, role: str, la: int, hash_: str, manager=None) -> dict:
    return {
        "id": n,
        "username": username,
        "full_name": username.replace("_", " ").title(),
        "position": role.replace("_", " ").title(),
        "email": f"{username}@example.org",
        "role": role,
        "la_id": la,
        "manager_id": manager,
        "password_hash": hash_,
        "active": True,
    }


def generate(url: str, world, cases: int, events: int) -> dict[str, list[str]]:
    """Bulk-load the synthetic LA; returns the usernames to sign in as, by role."""
    rng = random.Random(20261205)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with factory() as session:
        hash_ = session.get(User, world.users["oak_lead"]).password_hash
        manager = world.users["manager"]
        base = 1000
        # Schools, then the people who work for them.
        schools = []
        for n in range(SCHOOLS):
            schools.append(
                {
                    "id": base + n,
                    "urn": f"{910000 + n}",
                    "la_id": world.la,
                    "establishment_number": f"{3000 + n}",
                    "name": f"School {n:03d} {'Primary' if n % 3 else 'Academy'}",
                    "phase": "primary" if n % 3 else "secondary",
                    "traded_service": n % 5 != 0,
                    "traded_officer_id": None,
                }
            )
        bulk_insert(session, School.__table__, schools)
        users, links = [], []
        uid = 10_000
        leads: dict[int, int] = {}
        for s in schools:
            for k in range(2):
                uid += 1
                users.append(_user_row(uid, f"lead_{s['id']}_{k}", "school_staff", world.la, hash_))
                links.append({"user_id": uid, "school_id": s["id"]})
                leads.setdefault(s["id"], uid)
        traded_of: dict[int, int] = {}
        per = SCHOOLS // TRADED
        for t in range(TRADED):
            uid += 1
            users.append(_user_row(uid, f"officer_{t}", "traded_officer", world.la, hash_, manager))
            for s in schools[t * per : (t + 1) * per]:
                links.append({"user_id": uid, "school_id": s["id"]})
                traded_of[s["id"]] = uid
        statutory = []
        for t in range(STATUTORY):
            uid += 1
            users.append(
                _user_row(uid, f"statutory_{t}", "statutory_officer", world.la, hash_, manager)
            )
            statutory.append(uid)
        bulk_insert(session, User.__table__, users)
        bulk_insert(session, UserSchool.__table__, links)
        # Pupils: one per case, each enrolled at the case's school.
        pupils, enrolments, case_rows = [], [], []
        opened_base = datetime(2024, 9, 2, 9, tzinfo=UTC)
        stage_cut = []
        acc = 0.0
        for stage, team, share in STAGES:
            acc += share
            stage_cut.append((acc, stage, team))
        for n in range(cases):
            pid = 100_000 + n
            school = schools[n % SCHOOLS]
            pupils.append(
                {
                    "id": pid,
                    "upn": make_upn(
                        340, int(school["establishment_number"]), 10 + n // 1000, n % 1000
                    ),
                    "legal_forename": rng.choice(("Ava", "Ben", "Cara", "Dev", "Eli", "Fay")),
                    "legal_surname": f"Pupil{n}",
                    "preferred_forename": None,
                    "preferred_surname": None,
                    "date_of_birth": date(2012 + n % 8, 1 + n % 12, 1 + n % 28),
                    "sex": "F" if n % 2 else "M",
                    "nc_year": 1 + n % 11,
                    "family_id": None,
                    "la_id": world.la,
                    "fsm": False,
                    "sen_support": False,
                    "ehc_plan": False,
                    "looked_after": False,
                    "social_worker": False,
                    "young_carer": False,
                    "eal": False,
                }
            )
            enrolments.append(
                {
                    "pupil_id": pid,
                    "school_id": school["id"],
                    "start_date": date(2021, 9, 1),
                    "end_date": None,
                    "registration": "main",
                }
            )
            r = rng.random()
            stage, team = next((s, t) for cut, s, t in stage_cut if r <= cut + 1e-9)
            closed = rng.random() < 0.15
            owner = {
                "school": leads[school["id"]],
                "traded": traded_of.get(school["id"], leads[school["id"]]),
                "statutory": statutory[n % STATUTORY],
            }[team]
            opened = opened_base + timedelta(minutes=n * 5)
            case_rows.append(
                {
                    "id": 200_000 + n,
                    "reference": f"340-B-{n:06d}",
                    "pupil_id": pid,
                    "school_id": school["id"],
                    "la_id": world.la,
                    "kind": "irregular_attendance",
                    "stage": "closed" if closed else stage,
                    "closed_from_stage": stage if closed else None,
                    "owner_id": owner,
                    "team": team,
                    "opened_at": opened,
                    "closed_at": opened + timedelta(days=60) if closed else None,
                    "outcome": "improved" if closed else None,
                    "last_event_sequence": 0,
                    "version": 1,
                }
            )
        bulk_insert(session, Pupil.__table__, pupils)
        bulk_insert(session, Enrolment.__table__, enrolments)
        bulk_insert(session, Case.__table__, case_rows)
        # Events: spread over the cases (the append-only chronology a court reads).
        per_case = max(1, events // cases)
        sequences: dict[int, int] = defaultdict(int)
        batch = []
        for n in range(events):
            c = case_rows[n % cases] if n < per_case * cases else rng.choice(case_rows)
            sequences[c["id"]] += 1
            batch.append(
                {
                    "case_id": c["id"],
                    "sequence": sequences[c["id"]],
                    "occurred_at": c["opened_at"] + timedelta(hours=sequences[c["id"]]),
                    "actor_id": c["owner_id"],
                    "actor_name": "Bench Officer",
                    "actor_position": "Attendance officer",
                    "kind": "note" if sequences[c["id"]] > 1 else "opened",
                    "from_stage": None,
                    "to_stage": None,
                    "reason": "synthetic",
                    "data": {},
                    "intervention_id": None,
                }
            )
            if len(batch) == 100_000:
                bulk_insert(session, CaseEvent.__table__, batch)
                batch = []
        bulk_insert(session, CaseEvent.__table__, batch)
        session.execute(
            text(
                "UPDATE case_file SET last_event_sequence = s.n FROM (SELECT case_id, "
                "max(sequence) n FROM case_event GROUP BY case_id) s WHERE s.case_id = case_file.id"
            )
        )
        # Deadlines: one to three on each open case, around today; a few passed and escalated.
        deadlines = []
        armed = datetime.now(UTC) - timedelta(days=30)
        for c in case_rows:
            # Every case has history: clocks that were met (cancelled) or done late.
            for k in range(2):
                due = c["opened_at"].date() + timedelta(days=20 * (k + 1))
                deadlines.append(
                    _deadline_row(
                        c, due, "cancelled" if k else "done_late", armed, due - timedelta(days=21)
                    )
                )
            if c["closed_at"] is not None:
                continue
            for _ in range(rng.choice((1, 1, 2, 3))):
                due = TODAY + timedelta(days=rng.randint(-20, 90))
                fired = due < TODAY and rng.random() < 0.3
                deadlines.append(
                    {
                        "case_id": c["id"],
                        "school_id": c["school_id"],
                        "kind": "aim_review",
                        "label": "AIM action-plan review",
                        "rule": "3 school weeks after the AIM on the school's calendar",
                        "starts_on": due - timedelta(days=21),
                        "amount": 3,
                        "unit": "school_weeks",
                        "due_on": due,
                        "remind_on": None,
                        "status": "fired" if fired else "pending",
                        "attempts": 0,
                        "armed_at": armed,
                        "reminded_at": None,
                        "fired_at": armed if fired else None,
                        "cancelled_at": None,
                        "cancel_reason": None,
                        "last_error": None,
                        "details": {},
                        "version": 1,
                    }
                )
        bulk_insert(session, Deadline.__table__, deadlines)
        # Flags: a fifth of the pupils, raised over the last two months.
        flags = []
        for n in range(0, cases, 5):
            c = case_rows[n]
            flags.append(
                {
                    "pupil_id": c["pupil_id"],
                    "school_id": c["school_id"],
                    "flag": FLAGS[n % len(FLAGS)],
                    "raised_on": TODAY - timedelta(days=rng.randint(0, 60)),
                    "explanation": "attendance 88.5% this year",
                    "figures": {},
                }
            )
        bulk_insert(session, PupilFlag.__table__, flags)
        # Messages: most sent, some failed, caused by the cases' holders.
        now = datetime.now(UTC)
        messages = []
        for n in range(0, cases, 20):
            c = case_rows[n]
            failed = n % 100 == 0
            messages.append(
                {
                    "key": f"bench.{n}",
                    "message_id": f"<bench.{n}@casework>",
                    "kind": "letter",
                    "la_id": world.la,
                    "case_id": c["id"],
                    "caused_by_user_id": c["owner_id"],
                    "recipient_user_id": None,
                    "recipient_contact_id": None,
                    "to_address": f"parent{n}@example.org",
                    "subject": "Your child's attendance",
                    "template": "letter",
                    "context": {},
                    "attachments": [],
                    "status": "failed" if failed else "sent",
                    "attempts": 8 if failed else 1,
                    "next_attempt_at": now,
                    "lease_token": None,
                    "leased_until": None,
                    "created_at": now - timedelta(hours=n % 500),
                    "last_attempt_at": now,
                    "sent_at": None if failed else now,
                    "failed_at": now - timedelta(hours=n % 500) if failed else None,
                    "last_error": "SMTPRecipientsRefused 550" if failed else None,
                }
            )
        bulk_insert(session, OutboxMessage.__table__, messages)
        for table in ("school", "app_user", "pupil", "case_file"):
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    print(
        f"generated {cases:,} cases, {events:,} events, {len(deadlines):,} deadlines "
        f"({sum(d['status'] in ('pending', 'fired') for d in deadlines):,} open), "
        f"{len(flags):,} flags, {len(messages):,} messages, {len(users)} users in "
        f"{time.perf_counter() - started:.0f} s"
    )
    leads_users = [u["username"] for u in users if u["role"] == "school_staff"]
    return {
        "school_staff": leads_users[::2][:8],
        "traded_officer": [u["username"] for u in users if u["role"] == "traded_officer"][:5],
        "statutory_officer": [u["username"] for u in users if u["role"] == "statutory_officer"][:4],
        "la_manager": ["manager"],
    }


def _deadline_row(case: dict, due: date, status: str, armed: datetime, starts: date) -> dict:
    return {
        "case_id": case["id"],
        "school_id": case["school_id"],
        "kind": "school_action_review",
        "label": "Review of school actions",
        "rule": "6 school weeks after the case opened, on the school's calendar",
        "starts_on": starts,
        "amount": 6,
        "unit": "school_weeks",
        "due_on": due,
        "remind_on": None,
        "status": status,
        "attempts": 0,
        "armed_at": armed,
        "reminded_at": None,
        "fired_at": None,
        "cancelled_at": armed if status == "cancelled" else None,
        "cancel_reason": "done" if status == "cancelled" else None,
        "last_error": None,
        "details": {},
        "version": 1,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url: str, workers: int, var_dir: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {
        **os.environ,
        "CASEWORK_DATABASE_URL": url,
        "CASEWORK_SESSION_SECRET": "bench-secret-" + "x" * 32,
        "CASEWORK_VAR_DIR": var_dir,
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/health", timeout=2).status_code < 500:
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the server did not start")


def _pages_for(role: str) -> list[tuple[str, str]]:
    pages = [("my work", "/"), ("caseload", "/caseload")]
    pages.append(
        ("caseload, filtered", "/caseload?stage=facilitate_support&flag=persistent_absence")
    )
    pages.append(("caseload, sorted", "/caseload?sort=opened&page=3"))
    return pages


async def _sign_in(base: str, username: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=30, headers={"Accept": "text/html"})
    await client.get("/health")  # the CSRF cookie, echoed in the header as a script must
    response = await client.post(
        "/api/auth/login",
        json={"username": username, "password": PASSWORD},
        headers={HEADER: client.cookies[COOKIE]},
    )
    response.raise_for_status()
    return client


async def _load(
    base: str, users: list[str], seconds: float, pages, role_of, think: float = 0
) -> dict:
    clients = [await _sign_in(base, u) for u in users]
    timings: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    # Warm-up, not timed: each user loads each of its pages once, so every worker has opened its
    # database connections and compiled its templates before the steady state is measured (the
    # slowest of these cold loads is reported on its own).
    cold: list[float] = []

    async def warm(client: httpx.AsyncClient, username: str) -> None:
        for _, path in pages(role_of[username]):
            start = time.perf_counter()
            await client.get(path)
            cold.append(time.perf_counter() - start)

    await asyncio.gather(*(warm(c, u) for c, u in zip(clients, users, strict=True)))
    stop = time.perf_counter() + seconds

    async def user(client: httpx.AsyncClient, username: str, n: int) -> None:
        mine = pages(role_of[username])
        rng = random.Random(n)
        i = n
        while time.perf_counter() < stop:
            name, path = mine[i % len(mine)]
            i += 1
            start = time.perf_counter()
            response = await client.get(path)
            elapsed = time.perf_counter() - start
            if response.status_code != 200:
                errors[name] += 1
            timings[name].append(elapsed)
            if think:  # a person reads the page before the next click (not past the end)
                pause = min(rng.expovariate(1 / think), stop - time.perf_counter())
                await asyncio.sleep(max(0.0, pause))

    started = time.perf_counter()
    await asyncio.gather(
        *(user(c, u, n) for n, (c, u) in enumerate(zip(clients, users, strict=True)))
    )
    wall = time.perf_counter() - started
    for c in clients:
        await c.aclose()
    return {"timings": timings, "errors": errors, "wall": wall, "cold": cold}


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def _report(title: str, result: dict) -> None:
    total = sum(len(v) for v in result["timings"].values())
    print(f"\n{title}: {total} requests in {result['wall']:.1f} s, {total / result['wall']:.0f}/s")
    print(f"  {'page':22} {'n':>6} {'median':>8} {'p95':>8} {'p99':>8}  errors")
    for name, values in result["timings"].items():
        print(
            f"  {name:22} {len(values):6d} {statistics.median(values) * 1000:6.1f}ms "
            f"{_percentile(values, 0.95) * 1000:6.1f}ms {_percentile(values, 0.99) * 1000:6.1f}ms"
            f"  {result['errors'].get(name, 0)}"
        )
    if result.get("cold"):
        print(
            f"  (warm-up before timing: {len(result['cold'])} first loads, "
            f"slowest {max(result['cold']) * 1000:.0f} ms)"
        )


def direct_sql(url: str, manager_id: int, lead_id: int, repeats: int = 50) -> None:
    """Each page's main query run directly (one connection, no web, no ORM objects)."""
    engine = make_engine(url)
    queries = {
        "caseload, manager (first 50 by next deadline)": (
            "SELECT d.case_id, d.due_on FROM deadline d JOIN case_file c ON c.id = d.case_id "
            "WHERE d.status IN ('pending','fired') AND c.la_id = :la AND c.closed_at IS NULL "
            "ORDER BY d.due_on, d.case_id LIMIT 200",
            {"la": 1},
        ),
        "my work, manager (overdue on team's cases)": (
            "SELECT d.id, d.due_on, c.reference FROM deadline d JOIN case_file c ON "
            "c.id = d.case_id WHERE d.status IN ('pending','fired') AND c.closed_at IS NULL "
            "AND c.owner_id IN (SELECT id FROM app_user WHERE manager_id = :m OR id = :m) "
            "AND (d.status = 'fired' OR d.due_on < CURRENT_DATE) ORDER BY d.due_on, d.id LIMIT 20",
            {"m": manager_id},
        ),
        "caseload count, manager (capped)": (
            "SELECT count(*) FROM (SELECT 1 FROM case_file WHERE la_id = :la AND closed_at IS "
            "NULL LIMIT 10001) s",
            {"la": 1},
        ),
    }
    print("\nreference: each page's main SQL run directly")
    with engine.connect() as conn:
        la = conn.execute(text("SELECT la_id FROM app_user WHERE id = :m"), {"m": manager_id})
        la_id = la.scalar_one()
        for title, (sql, params) in queries.items():
            params = {**params, "la": la_id}
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                conn.execute(text(sql), params).all()
                times.append(time.perf_counter() - start)
            print(
                f"  {title:50} median {statistics.median(times) * 1000:6.2f} ms, "
                f"p95 {_percentile(times, 0.95) * 1000:6.2f} ms"
            )
    engine.dispose()


def signed_in_users(url: str) -> dict[str, list[str]]:
    """The users the load generator signs in as, by role (from a generated database)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT username, role FROM app_user WHERE id > 10000 ORDER BY id")
        ).all()
    engine.dispose()
    by_role: dict[str, list[str]] = defaultdict(list)
    for username, role in rows:
        by_role[role].append(username)
    return {
        "school_staff": by_role["school_staff"][::2][:8],
        "traded_officer": by_role["traded_officer"][:5],
        "statutory_officer": by_role["statutory_officer"][:4],
        "la_manager": ["manager"],
    }


def measure(url: str, args, manager_id: int) -> None:
    by_role = signed_in_users(url)
    role_of = {u: role for role, names in by_role.items() for u in names}
    users = [u for names in by_role.values() for u in names]
    users = (users * (args.users // len(users) + 1))[: args.users]
    print(
        f"{len(users)} concurrent users: "
        + ", ".join(f"{sum(role_of[u] == r for u in users)} {r}" for r in by_role)
        + (f"; think time {args.think:g} s on average" if args.think else "; no think time")
    )
    with tempfile.TemporaryDirectory() as var:
        server, base = serve(url, args.workers, var)
        try:
            static = asyncio.run(
                _load(
                    base,
                    users,
                    min(5.0, args.seconds),
                    lambda role: [("static file", "/static/casework.js")],
                    role_of,
                    args.think,
                )
            )
            _report("reference: a static file from the same server, same users", static)
            # Warm up (templates compiled, connections opened), then measure.
            asyncio.run(_load(base, users, 3, _pages_for, role_of, 0))
            result = asyncio.run(_load(base, users, args.seconds, _pages_for, role_of, args.think))
            _report(f"pages, {args.workers} uvicorn workers", result)
        finally:
            server.terminate()
            server.wait(timeout=30)
    direct_sql(url, manager_id, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--think",
        type=float,
        default=0,
        help="each user's mean pause between pages in seconds (0: ask again at once)",
    )
    parser.add_argument(
        "--reuse",
        metavar="DATABASE",
        help="measure an already generated database (kept) instead of generating one",
    )
    parser.add_argument(
        "--keep", metavar="DATABASE", help="generate into this database and keep it"
    )
    args = parser.parse_args()
    if args.reuse:
        url = url_of(args.reuse)
        engine = make_engine(url)
        with engine.connect() as conn:
            manager = conn.execute(
                text("SELECT id FROM app_user WHERE username = 'manager'")
            ).scalar_one()
        engine.dispose()
        measure(url, args, manager)
        return
    if args.keep:
        admin = pg_admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{args.keep}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{args.keep}"'))
        admin.dispose()
        url = url_of(args.keep)
        world = _seed(url)
        generate(url, world, args.cases, args.events)
        measure(url, args, world.users["manager"])
        return
    with scratch_database("casework_bench_pages") as url:
        world = _seed(url)
        generate(url, world, args.cases, args.events)
        measure(url, args, world.users["manager"])


if __name__ == "__main__":
    main()
