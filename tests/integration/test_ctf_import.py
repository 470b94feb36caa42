"""Importing Common Transfer Files, on SQLite and PostgreSQL: pupils upserted by UPN (a
temporary UPN replaced by the permanent one, with a record of the change), contacts and
characteristics, marks laid on the school's calendar; the same file twice changes nothing;
hostile or broken files are rejected with nothing written. All data is synthetic."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

from sqlalchemy import func, select

from casework.analytics.totals import totals
from casework.calendars import school_calendar
from casework.models import (
    Contact,
    Enrolment,
    ImportBatch,
    Pupil,
    PupilUpnChange,
    RegisterYear,
)
from casework.registers.ctf import attendance_marks_text, write_ctf
from casework.registers.marks import MarkString, session_index
from casework.registers.records import (
    CtfAddress,
    CtfContact,
    CtfFile,
    CtfHeader,
    CtfPupil,
    CtfYearData,
)
from casework.registers.store import register_extract
from casework.upn import check_letter, make_upn
from workflows.imports import import_ctf, run_import

VERSIONS = {"24.0", "23.0"}
AS_AT = date(2024, 11, 20)
ADDRESS = CtfAddress(("1 Example Road",), "Exampletown", "ZZ99 3AA")


def _temporary(serial: int) -> str:
    body = f"3402001{24:02d}{serial:02d}B"
    return check_letter(body) + body


def _year(index, codes_for) -> CtfYearData:
    marks = MarkString.of(
        [codes_for(day, name) if day <= AS_AT else None for day, name in index.sessions]
    )
    start, text = attendance_marks_text(index, marks)
    found = totals(
        (day, name, code)
        for (day, name), code in zip(index.sessions, marks.codes(), strict=True)
        if code is not None
    )
    return CtfYearData(
        0, 2024, "340", "2001", "Oakfield Primary", found.possible, found.authorised,
        found.attended, found.unauthorised, start, text,
    )  # fmt: skip


def _pupil(upn, forename, *, former=None, year=None, fsm=False) -> CtfPupil:
    return CtfPupil(
        line=0,
        upn=upn,
        former_upn=former,
        surname="Testpupil",
        forename=forename,
        preferred_surname=None,
        preferred_forename=None,
        date_of_birth=date(2016, 5, 1),
        sex="M",
        nc_year=3,
        fsm=fsm,
        sen_support=False,
        ehc_plan=False,
        looked_after=False,
        eal=False,
        address=ADDRESS,
        contacts=(
            CtfContact(0, 1, "Mx", "Testparent", "Robin", "Parent", True, None, True, ("0100",)),
        ),
        attendance=(year,) if year else (),
    )


def _file(*pupils: CtfPupil) -> bytes:
    header = CtfHeader(
        "24.0", "Common Transfer File", None, "full", "Casework tests", 2024, "340", "2001",
        "900001", "Oakfield Primary", "340", "XXX",
    )  # fmt: skip
    return write_ctf(CtfFile(header, pupils))


def _index(db):
    with db.factory() as session:
        return session_index(school_calendar(session, db.world.oakfield), 2024)


def _import(context, data, *, user="oak_lead", partial=False):
    @contextmanager
    def opened():
        yield context(user)

    return run_import(
        opened,
        lambda ctx: import_ctf(
            ctx, data, file_name="oak.xml", partial=partial, accepted_versions=VERSIONS
        ),
        partial=partial,
        school_id=None,
    )


def _present(day, name):
    return "/" if name == "AM" else "\\"


def _count(db, model):
    with db.factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_ctf_creates_pupils_with_contacts_enrolments_and_registers(db, context):
    index = _index(db)
    ill = date(2024, 11, 12)
    new_upn = make_upn(340, 2001, 24, 501)
    data = _file(
        _pupil(
            new_upn,
            "Alex",
            fsm=True,
            year=_year(index, lambda d, s: "I" if d == ill else _present(d, s)),
        ),
        _pupil(make_upn(340, 2001, 24, 502), "Sam", year=_year(index, _present)),
    )
    result = _import(context, data)
    assert result.status == "imported", result.problems
    assert result.counts["pupils_created"] == 2
    assert result.counts["contacts_created"] == 2
    assert result.counts["enrolments_created"] == 2
    with db.factory() as session:
        pupil = session.scalars(select(Pupil).where(Pupil.upn == new_upn)).one()
        assert (pupil.legal_forename, pupil.fsm, pupil.nc_year) == ("Alex", True, 3)
        enrolment = session.scalars(select(Enrolment).where(Enrolment.pupil_id == pupil.id)).one()
        assert enrolment.school_id == db.world.oakfield
        assert enrolment.start_date == index.sessions[0][0]
        extract = register_extract(session, pupil.id, db.world.oakfield, ill, ill)
        assert extract == [(ill, "AM", "I"), (ill, "PM", "I")]
        assert len(
            register_extract(session, pupil.id, db.world.oakfield, date(2024, 9, 1), AS_AT)
        ) == sum(1 for day, _ in index.sessions if day <= AS_AT)

    again = _import(context, data)
    assert again.status == "unchanged"
    assert _count(db, Pupil) == 5 and _count(db, RegisterYear) == 2 and _count(db, Contact) == 4


def test_a_temporary_upn_is_replaced_by_the_permanent_one(db, context):
    index = _index(db)
    temporary = _temporary(7)
    first = _import(context, _file(_pupil(temporary, "Jo", year=_year(index, _present))))
    assert first.status == "imported", first.problems
    permanent = make_upn(340, 2001, 24, 777)
    later = _import(
        context, _file(_pupil(permanent, "Jo", former=temporary, year=_year(index, _present)))
    )
    assert later.status == "imported", later.problems
    assert later.counts["upns_replaced"] == 1 and later.counts.get("pupils_created", 0) == 0
    with db.factory() as session:
        pupil = session.scalars(select(Pupil).where(Pupil.upn == permanent)).one()
        change = session.scalars(select(PupilUpnChange)).one()
        assert (change.pupil_id, change.old_upn, change.new_upn) == (pupil.id, temporary, permanent)
        assert session.scalar(select(func.count()).select_from(RegisterYear)) == 1


def test_a_bad_pupil_rejects_the_file_unless_partial_import_is_asked_for(db, context):
    index = _index(db)
    good = _pupil(make_upn(340, 2001, 24, 601), "Kit", year=_year(index, _present))
    upn = make_upn(340, 2001, 24, 602)
    wrong = ("A" if upn[0] != "A" else "B") + upn[1:]
    bad = _pupil(wrong, "Lee", year=_year(index, _present))
    data = _file(good, bad)
    rejected = _import(context, data)
    assert rejected.status == "rejected"
    (problem,) = rejected.problems
    assert problem.field == "Pupil/UPN" and upn[0] in problem.rule
    assert problem.line is not None
    assert _count(db, Pupil) == 3 and _count(db, RegisterYear) == 0
    partial = _import(context, data, partial=True)
    assert partial.status == "partial"
    assert (partial.counts["pupils_created"], partial.counts["pupils_skipped"]) == (1, 1)


def test_hostile_files_are_rejected_and_logged_with_nothing_written(db, context):
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE CTfile [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<CTfile><Header>&x;</Header></CTfile>"
    )
    result = _import(context, xxe)
    assert result.status == "rejected"
    assert "DTD" in result.problems[0].rule
    truncated = _file(_pupil(make_upn(340, 2001, 24, 701), "Ash"))[:-40]
    assert _import(context, truncated).status == "rejected"
    assert _count(db, Pupil) == 3
    with db.factory() as session:
        assert [b.status for b in session.scalars(select(ImportBatch))] == ["rejected", "rejected"]


def test_a_school_cannot_import_another_schools_ctf(db, context):
    result = _import(context, _file(_pupil(make_upn(340, 2001, 24, 801), "Max")), user="hill_lead")
    assert result.status == "rejected"
    assert result.problems[0].field == "Header/SourceSchool"
