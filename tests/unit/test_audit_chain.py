"""The audit chain's hash: fixed, and changed by any edit to any hashed field or to the link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from casework import audit
from casework.models import AuditEntry


def _entry(**changes) -> AuditEntry:
    fields = {
        "at": datetime(2024, 11, 20, 10, 0, 0, 123456, tzinfo=UTC),
        "actor_id": 7,
        "actor_username": "manager",
        "la_id": 1,
        "action": "read",
        "record_type": "pupil",
        "record_id": "42",
        "pupil_id": 42,
        "route": "GET /pupils/{pupil_id}",
        "outcome": "200",
    }
    return AuditEntry(**{**fields, **changes})


def test_the_hash_is_sha256_of_the_link_and_the_canonical_fields():
    # Pinned: a change to the serialisation would break every chain already written.
    assert audit.canonical(_entry()) == (
        '["2024-11-20T10:00:00.123456+00:00",7,"manager",1,"read","pupil","42",42,'
        '"GET /pupils/{pupil_id}","200"]'
    )
    assert audit.entry_hash(audit.GENESIS, _entry()) == audit.entry_hash(audit.GENESIS, _entry())
    assert len(audit.entry_hash(audit.GENESIS, _entry())) == 64


def test_the_same_instant_in_another_zone_hashes_the_same():
    later_zone = timezone(timedelta(hours=1))
    moved = _entry(at=datetime(2024, 11, 20, 11, 0, 0, 123456, tzinfo=later_zone))
    assert audit.entry_hash("a" * 64, moved) == audit.entry_hash("a" * 64, _entry())


EDITS = {
    "at": datetime(2024, 11, 20, 10, 0, 1, tzinfo=UTC),
    "actor_id": 8,
    "actor_username": "someone_else",
    "la_id": 2,
    "action": "write",
    "record_type": "case",
    "record_id": "43",
    "pupil_id": None,
    "route": "GET /api/pupils/{pupil_id}",
    "outcome": "404",
}


@pytest.mark.parametrize("field", audit.HASHED_FIELDS)
def test_editing_any_hashed_field_changes_the_hash(field):
    assert field in EDITS, "every hashed field has an edit here"
    original = audit.entry_hash(audit.GENESIS, _entry())
    assert audit.entry_hash(audit.GENESIS, _entry(**{field: EDITS[field]})) != original


def test_relinking_an_entry_changes_its_hash():
    assert audit.entry_hash(audit.GENESIS, _entry()) != audit.entry_hash("f" * 64, _entry())


def test_a_field_cannot_be_moved_into_its_neighbour():
    # JSON keeps the boundary: "ab" + "c" is not "a" + "bc".
    one = _entry(actor_username="ab", action="c")
    two = _entry(actor_username="a", action="bc")
    assert audit.entry_hash(audit.GENESIS, one) != audit.entry_hash(audit.GENESIS, two)


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"action": "look"}, "action 'look' is not one of"),
        ({"at": datetime(2024, 11, 20, 10, 0)}, "must be timezone-aware"),
    ],
)
def test_record_refuses_bad_input_before_touching_the_database(changes, rule):
    arguments = {
        "actor": None,
        "action": "read",
        "record_type": "pupil",
        "record_id": 1,
        "pupil_id": 1,
        "route": "GET /pupils/{pupil_id}",
        "outcome": "200",
        "at": datetime(2024, 11, 20, tzinfo=UTC),
        **changes,
    }
    with pytest.raises(ValueError, match=rule):
        audit.record(None, **arguments)  # type: ignore[arg-type]
