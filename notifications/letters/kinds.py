"""Every kind of letter to parents: its template, who signs it, who may send it, the extra
fields its sender gives, and the elements it must contain.

The letter chain follows the seeds: a school's first-day contact, its concern letters and
Attendance Concern Meeting (the school attendance policy), Knowsley's attendance letters, AIM
invitation and action plan, Essex's attendance contract and Notice to Improve, then the
penalty-notice warning and the notice itself (RULES.md §2.3, §2.5, §4.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from casework.errors import InvalidInput
from notifications.letters.fields import Field
from notifications.penalty_notice import REQUIRED_ELEMENTS as PENALTY_NOTICE_ELEMENTS

# Who signs: the person sending it (school letters, AIM letters, a contract they agreed), or the
# signatory the LA profile names (formal letters from the LA).
SENDER = "sender"
SIGNATORY = "signatory"

# Every letter names the parent and their address, the child and the school, says what happens
# next and who to contact; each sits in an element with data-element="<key>".
COMMON_ELEMENTS: dict[str, str] = {
    "recipient": "The parent the letter is addressed to, with their own address",
    "child_and_school": "The child the letter is about and their school",
    "what_next": "What happens next",
    "contact": "Who to contact, and how",
}

# RULES.md §2.5: what a Notice to Improve must contain.
NOTICE_TO_IMPROVE_ELEMENTS: dict[str, str] = {
    **COMMON_ELEMENTS,
    "attendance_record": "The attendance record and the offences: the sessions relied on",
    "parental_duty": "The parent's duty under section 7 of the Education Act 1996",
    "support_so_far": "The support offered so far",
    "further_support": "Further support available, including support previously declined",
    "warning": "A warning that a penalty notice or prosecution may follow",
    "timeframe": "The improvement period and the date it ends",
    "sufficient_improvement": "What sufficient improvement means for this family",
    "early_penalty_grounds": "The grounds for issuing a penalty notice before the period ends",
}

MEETING = (
    Field("meeting_date", "date", True, "the date of the meeting"),
    Field("meeting_time", "time", True, "the time of the meeting, HH:MM"),
    Field("meeting_place", "text", True, "where the meeting is"),
)
ATTENDANCE_FIGURES = (
    # Only when the pupil's registers are not held here: the figures the letter quotes.
    Field("attendance_percent", "percent", False, "attendance this school year, in per cent"),
    Field("sessions_missed", "count", False, "sessions missed this school year"),
)


@dataclass(frozen=True)
class LetterKind:
    key: str
    title: str
    template: str
    signed_by: str  # SENDER or SIGNATORY
    school_may_send: bool
    # Sent only by its own case action (issuing the notice), never on request.
    by_action_only: bool
    fields: tuple[Field, ...]
    required_elements: dict[str, str]
    # Served by post (its dates run from posting), so printed even for a parent with email.
    post_only: bool = False


KINDS: dict[str, LetterKind] = {
    kind.key: kind
    for kind in (
        LetterKind(
            "first_day_absence",
            "Your child is absent from school",
            "letters/first_day_absence.html",
            SENDER,
            True,
            False,
            (Field("absence_date", "date", False, "the day of the absence (today if not given)"),),
            COMMON_ELEMENTS,
        ),
        LetterKind(
            "concern_letter",
            "We are worried about your child's attendance",
            "letters/concern_letter.html",
            SENDER,
            True,
            False,
            ATTENDANCE_FIGURES,
            COMMON_ELEMENTS,
        ),
        LetterKind(
            "attendance_concern_meeting",
            "Invitation to an Attendance Concern Meeting",
            "letters/attendance_concern_meeting.html",
            SENDER,
            True,
            False,
            (*MEETING, *ATTENDANCE_FIGURES),
            COMMON_ELEMENTS,
        ),
        LetterKind(
            "aim_invitation",
            "Invitation to an Attendance Improvement Meeting",
            "letters/aim_invitation.html",
            SENDER,
            True,
            False,
            (
                *MEETING,
                Field("attendees", "text_list", False, "who else will be at the meeting"),
            ),
            COMMON_ELEMENTS,
        ),
        LetterKind(
            "aim_action_plan",
            "Your Attendance Improvement Meeting action plan",
            "letters/aim_action_plan.html",
            SENDER,
            True,
            False,
            (
                Field(
                    "actions",
                    "actions",
                    False,
                    "the actions agreed, each {action, who, by} (else the AIM's recorded plan)",
                ),
                Field("meeting_date", "date", False, "the date of the meeting (else the AIM's)"),
                Field("target", "text", False, "the attendance target agreed"),
                Field("review_date", "date", False, "when the plan is reviewed"),
            ),
            COMMON_ELEMENTS,
        ),
        LetterKind(
            "attendance_contract",
            "Attendance contract",
            "letters/attendance_contract.html",
            SENDER,
            False,
            False,
            (
                Field("parent_commitments", "text_list", True, "what the parent agrees to do"),
                Field("support_commitments", "text_list", True, "the support that will be given"),
                Field("start_date", "date", False, "when the contract starts (today if not given)"),
                Field("review_date", "date", False, "when it is reviewed"),
            ),
            COMMON_ELEMENTS,
        ),
        LetterKind(
            "notice_to_improve",
            "Notice to Improve",
            "letters/notice_to_improve.html",
            SIGNATORY,
            False,
            True,
            (
                Field(
                    "sufficient_improvement",
                    "text",
                    False,
                    "what sufficient improvement means for this family (else the LA's wording)",
                ),
            ),
            NOTICE_TO_IMPROVE_ELEMENTS,
        ),
        LetterKind(
            "penalty_notice_warning",
            "Warning: a penalty notice may be issued",
            "letters/penalty_notice_warning.html",
            SIGNATORY,
            False,
            False,
            (
                Field(
                    "sessions",
                    "sessions",
                    False,
                    "the unauthorised sessions (else the pupil's registers)",
                ),
            ),
            COMMON_ELEMENTS,
        ),
        LetterKind(
            "penalty_notice",
            "Penalty notice",
            "letters/penalty_notice.html",
            SIGNATORY,
            False,
            True,
            (),
            PENALTY_NOTICE_ELEMENTS,
            post_only=True,
        ),
    )
}

SCHOOL_KINDS = tuple(k for k, kind in KINDS.items() if kind.school_may_send)


def kind_named(key: str) -> LetterKind:
    """The letter kind, or InvalidInput naming the field and the kinds there are."""
    found = KINDS.get(key)
    if found is None:
        raise InvalidInput.one("kind", key, "one of: " + ", ".join(KINDS))
    return found
