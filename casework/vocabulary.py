"""The domain's words, as the seeds use them: stages, roles, interventions, outcomes."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """DfE support-first stages (Working together to improve school attendance), plus Closed."""

    EXPECT = "expect"
    MONITOR = "monitor"
    LISTEN = "listen_and_understand"
    FACILITATE = "facilitate_support"
    FORMALISE = "formalise_support"
    ENFORCE = "enforce"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS = {
    Stage.EXPECT: "Expect",
    Stage.MONITOR: "Monitor",
    Stage.LISTEN: "Listen and understand",
    Stage.FACILITATE: "Facilitate support",
    Stage.FORMALISE: "Formalise support",
    Stage.ENFORCE: "Enforce",
    Stage.CLOSED: "Closed",
}

# The open stages in their support-first order; position is what "skip" and "step down" mean.
OPEN_STAGES: tuple[Stage, ...] = (
    Stage.EXPECT,
    Stage.MONITOR,
    Stage.LISTEN,
    Stage.FACILITATE,
    Stage.FORMALISE,
    Stage.ENFORCE,
)


# The pupil characteristics casework and the DfE statistics cut by (columns on the pupil).
CHARACTERISTICS = (
    "fsm",
    "sen_support",
    "ehc_plan",
    "looked_after",
    "social_worker",
    "young_carer",
    "eal",
)


class CaseKind(StrEnum):
    """Irregular attendance follows the support-first path; a term-time holiday may go straight
    to Enforce because support is not appropriate (RULES.md §2.6)."""

    IRREGULAR_ATTENDANCE = "irregular_attendance"
    TERM_TIME_HOLIDAY = "term_time_holiday"


class Outcome(StrEnum):
    IMPROVED = "improved"
    LEFT_ROLL = "left_roll"
    MOVED_AWAY = "moved_away"
    ELECTIVE_HOME_EDUCATION = "elective_home_education"
    CHILDREN_MISSING_EDUCATION = "children_missing_education"
    OTHER = "other"


class Role(StrEnum):
    SCHOOL_STAFF = "school_staff"
    TRADED_OFFICER = "traded_officer"
    STATUTORY_OFFICER = "statutory_officer"
    LA_MANAGER = "la_manager"
    ADMIN = "admin"
    # An MIS integration pushing registers with an API token; it never sees cases.
    INTEGRATION = "integration"


class Team(StrEnum):
    """Who holds a case: the school, the LA's traded attendance service or its statutory team.

    Family First, Early Help, social care and other agencies are referrals recorded as
    interventions: the case stays with the officer who "must continue to meet" (Knowsley)."""

    SCHOOL = "school"
    TRADED = "traded"
    STATUTORY = "statutory"


ROLE_TEAM = {
    Role.SCHOOL_STAFF: Team.SCHOOL,
    Role.TRADED_OFFICER: Team.TRADED,
    Role.STATUTORY_OFFICER: Team.STATUTORY,
}


class InterventionKind(StrEnum):
    PHONE_CALL = "phone_call"
    LETTER = "letter"
    MEETING_WITH_PARENT = "meeting_with_parent"
    HOME_VISIT = "home_visit"
    PUPIL_CHECK_IN = "pupil_check_in"
    ATTENDANCE_CONCERN_MEETING = "attendance_concern_meeting"
    EARLY_HELP_ASSESSMENT = "early_help_assessment"
    TEAM_AROUND_THE_FAMILY = "team_around_the_family"
    ATTENDANCE_IMPROVEMENT_MEETING = "attendance_improvement_meeting"
    REFERRAL = "referral"
    ATTENDANCE_CONTRACT = "attendance_contract"
    NOTICE_TO_IMPROVE = "notice_to_improve"
    PENALTY_NOTICE = "penalty_notice"
    INTERVIEW_UNDER_CAUTION = "interview_under_caution"
    ESO_CONSIDERATION = "education_supervision_order_consideration"


class Engagement(StrEnum):
    """Whether the family engaged with an intervention: the heart of "support did not work"."""

    ENGAGED = "engaged"
    PARTLY = "partly_engaged"
    NOT_ENGAGED = "not_engaged"
    DECLINED = "declined"
    NOT_APPLICABLE = "not_applicable"


class InterventionOutcome(StrEnum):
    PENDING = "pending"
    IMPROVED = "improved"
    SOME_IMPROVEMENT = "some_improvement"
    NOT_IMPROVED = "not_improved"
    COMPLETED = "completed"
    DECLINED = "declined"


class ReferralStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    RETURNED = "returned"


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    USED = "used"


class Session(StrEnum):
    AM = "AM"
    PM = "PM"


class EventKind(StrEnum):
    OPENED = "opened"
    STAGE_CHANGED = "stage_changed"
    NOTICE_TO_IMPROVE_ISSUED = "notice_to_improve_issued"
    PROSECUTION_STARTED = "prosecution_started"
    CLOSED = "closed"
    REOPENED = "reopened"
    INTERVENTION_RECORDED = "intervention_recorded"
    ASSIGNED = "assigned"
    REFERRED = "referred"
    REFERRAL_ACCEPTED = "referral_accepted"
    REFERRAL_RETURNED = "referral_returned"
    APPROVAL_REQUESTED = "approval_requested"
    APPROVAL_DECIDED = "approval_decided"
    ATTACHMENT_ADDED = "attachment_added"
    DEADLINE_REMINDER = "deadline_reminder"
    DEADLINE_PASSED = "deadline_passed"
    DEADLINE_MOVED = "deadline_moved"
    # The daily scan: an attendance flag raised or cleared on a pupil with an open case.
    FLAG_RAISED = "flag_raised"
    FLAG_CLEARED = "flag_cleared"
    # The officer's answer to a met threshold (workflows/penalty_decision.py): a penalty notice
    # was considered and is not being pursued now; support continues.
    PENALTY_CONSIDERED = "penalty_considered"
    # Penalty notices (workflows/penalties): the request, then each notice's lifecycle.
    PENALTY_NOTICE_REQUESTED = "penalty_notice_requested"
    PENALTY_NOTICE_REQUEST_DECIDED = "penalty_notice_request_decided"
    PENALTY_NOTICE_DRAFTED = "penalty_notice_drafted"
    PENALTY_NOTICE_CANCELLED = "penalty_notice_cancelled"
    PENALTY_NOTICE_ISSUED = "penalty_notice_issued"
    PENALTY_NOTICE_PAID = "penalty_notice_paid"
    PENALTY_NOTICE_WITHDRAWN = "penalty_notice_withdrawn"
    PENALTY_NOTICE_PROSECUTION = "penalty_notice_prosecution"
    PENALTY_NOTICE_ENQUIRY = "penalty_notice_enquiry"
    # The outbox (notifications/): an email about the case given up on, and a person's retry.
    MESSAGE_FAILED = "message_failed"
    MESSAGE_RETRIED = "message_retried"
    # Letters to parents (workflows/letters.py): one per letter, naming its exhibit number.
    LETTER_SENT = "letter_sent"
    NOTE = "note"
    # court packs (workflows/packs): the officer's test answers, each build, download and sign-off.
    PACK_TESTS_RECORDED = "pack_tests_recorded"
    PACK_BUILT = "pack_built"
    PACK_DOWNLOADED = "pack_downloaded"
    PACK_SIGNED_OFF = "pack_signed_off"


def year_group(nc_year: int) -> str:
    """How schools name a national curriculum year: "Reception", "Year 4" (nursery below)."""
    if nc_year < 0:
        return "Nursery"
    return "Reception" if nc_year == 0 else f"Year {nc_year}"
