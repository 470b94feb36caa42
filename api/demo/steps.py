"""The graduated response, step by step: what a school, a traded officer, the statutory team and
the manager do at each level (the Knowsley profile), each step one or more service calls.

The waits are in term days and never shorter than the guards' school weeks: the term days are the
school days the services count (``api.demo.timeline``: the demo LA's own calendar), and a school
week holds at most five of them, so a wait of 5N term days spans at least N school weeks. Six
school weeks of school action, or three of the family not engaging, come before Level 2; an Early
Help assessment is completed or declined; a manager approves the move to Enforce.
"""

from __future__ import annotations

from sqlalchemy import select

from api.demo.story import Story, percent
from casework.models import Intervention
from casework.vocabulary import Engagement as Eng
from casework.vocabulary import InterventionKind as Kind
from casework.vocabulary import InterventionOutcome as Res
from casework.vocabulary import Stage, Team
from workflows.facts import ListedSession

# The most term days ``level_two`` takes, from the referral to the support meeting.
LEVEL_TWO_DAYS = 8


def level_one(s: Story, *, engaged: bool, early_help: str) -> None:
    """School action (Level 1): letter, call, check-in, meeting; Listen and understand; then
    an Early Help assessment: 'completed', 'declined', 'pending', 'none' (not offered yet),
    or 'social_care' (a social worker already leads support, so none is offered)."""
    s.engaged = engaged
    s.early_help = early_help
    pct = percent(s.attendance)
    s.open(f"Attendance {pct} this term, below the school's 90% concern level.")
    s.record(
        s.lead,
        Kind.LETTER,
        f"First attendance concern letter to {s.parent.formal}: attendance {pct}.",
    )
    s.notes.append("attendance concern letter")
    s.wait(1, 4)
    if engaged:
        s.record(
            s.lead,
            Kind.PHONE_CALL,
            f"Phoned {s.parent.formal}: {s.who} has been struggling with "
            f"{s.barrier[0]}. Parent keen to work with school.",
            Eng.ENGAGED,
        )
    else:
        s.record(
            s.lead,
            Kind.PHONE_CALL,
            f"Three calls to {s.parent.formal} on different days: no answer, messages left.",
            Eng.NOT_ENGAGED,
        )
    s.notes.append("phone calls home")
    s.wait(2, 5)
    s.record(
        s.lead,
        Kind.PUPIL_CHECK_IN,
        f"Daily check-in with the learning mentor for two weeks; {s.who} mentioned {s.barrier[0]}.",
    )
    s.notes.append("pupil check-ins")
    s.wait(3, 7)
    if engaged:
        s.record(
            s.lead,
            Kind.ATTENDANCE_CONCERN_MEETING,
            f"Attendance concern meeting with {s.parent.formal}. Agreed: {s.barrier[1]}.",
            Eng.ENGAGED,
            attendees=[f"{s.parent.formal} (parent)", f"{s.lead.full_name} (school)"],
            details={"agreed_actions": [s.barrier[1]], "attendance": percent(s.attendance)},
        )
        reason = f"Meeting held to understand the barriers: {s.barrier[0]}."
    else:
        s.record(
            s.lead,
            Kind.ATTENDANCE_CONCERN_MEETING,
            f"{s.parent.formal} did not attend the attendance concern meeting; "
            "a second invitation was sent by post.",
            Eng.NOT_ENGAGED,
        )
        reason = "Parent not responding to school contact: the school needs to understand why."
    s.notes.append("attendance concern meeting")
    if s.case.stage != Stage.LISTEN:
        s.fire(s.lead, "advance_to_listen_and_understand", reason)
    if early_help == "social_care":
        s.wait(1, 3)
        s.record(
            s.lead,
            Kind.REFERRAL,
            f"Attendance concerns shared with {s.who}'s allocated social worker.",
            details={"agency": "Children's social care"},
        )
        return
    if early_help == "none":
        return
    s.wait(2, 5)
    if early_help == "declined" or not engaged:
        s.record(
            s.lead,
            Kind.EARLY_HELP_ASSESSMENT,
            f"Early Help assessment offered to {s.parent.formal}, who declined it.",
            Eng.DECLINED,
            Res.DECLINED,
        )
        s.notes.append("Early Help assessment offered (declined)")
        return
    assessment = s.record(
        s.lead,
        Kind.EARLY_HELP_ASSESSMENT,
        f"Early Help assessment started with {s.parent.formal}'s consent.",
        Eng.ENGAGED,
    )
    if early_help == "pending":
        return
    s.wait(8, 12)
    s.result(
        s.lead,
        assessment,
        Res.COMPLETED,
        "Early Help assessment completed; family plan shared with the family and school.",
    )
    s.notes.append("Early Help assessment completed")


def ready_for_level_two(
    s: Story, *, not_before: int | None = None, then: int = LEVEL_TWO_DAYS
) -> None:
    """Six school weeks of school action, or three of the family not engaging; with
    ``not_before``, no earlier than that term day while leaving the ``then`` term days the rest
    of the story needs."""
    due = s.opened_i + 30
    if not s.engaged and s.first_refusal_i is not None:
        due = min(due, s.first_refusal_i + 16)
    due += s.rng.randint(0, 2)
    if not_before is not None:
        due = max(due, min(not_before + s.rng.randint(0, 3), s.work.last - then))
    s.wait_until(due)


def level_two(s: Story) -> None:
    """Facilitate support: the traded officer and an Attendance Improvement Meeting, or at a
    school without the traded service, the school's own Team Around the Family."""
    rationales = {}
    if s.early_help == "social_care":
        rationales["early_help"] = (
            "The family already has a child in need plan with children's social care; "
            "the social worker leads support, so an Early Help assessment would duplicate it."
        )
    pct = percent(s.attendance)
    if s.traded:
        referral = s.refer(
            s.lead,
            Team.TRADED,
            f"Six weeks of Level 1 action have not improved attendance ({pct}): "
            "please arrange an Attendance Improvement Meeting.",
            s.referral_form(),
        )
        s.wait(1, 3)
        s.accept(s.traded, referral, "Accepted; AIM being arranged with the family.")
        s.fire(
            s.traded,
            "advance_to_facilitate_support",
            "Level 2: traded officer support and an Attendance Improvement Meeting.",
            rationales=rationales,
        )
        s.wait(2, 5)
        review = s.work.days[min(s.i + 15, s.work.last)]
        people = [
            f"{s.parent.formal} (parent)",
            f"{s.lead.full_name} (attendance lead)",
            f"{s.traded.full_name} (traded attendance officer)",
        ]
        if s.kid.year >= 5:
            people.append(f"{s.who} (pupil)")
        siblings = len(s.work.population.families[s.kid.family]) if s.kid.family else 1
        plan = [s.barrier[1], "attendance reviewed weekly with the attendance lead"]
        if siblings > 1:
            plan.append("the plan covers all the children in the family and their schools")
        s.support = s.record(
            s.traded,
            Kind.ATTENDANCE_IMPROVEMENT_MEETING,
            f"Attendance Improvement Meeting held; attendance at the meeting {pct}."
            if s.engaged
            else f"{s.parent.formal} did not attend the AIM; the action plan was posted.",
            Eng.ENGAGED if s.engaged else Eng.NOT_ENGAGED,
            attendees=people if s.engaged else people[1:3],
            details={
                "action_plan": plan,
                "attendance_at_meeting": pct,
                "review_due": review.isoformat(),
            },
        )
    else:
        s.fire(
            s.lead,
            "advance_to_facilitate_support",
            "Level 2: multi-agency support through a Team Around the Family.",
            rationales=rationales,
        )
        s.wait(2, 5)
        s.support = s.record(
            s.lead,
            Kind.TEAM_AROUND_THE_FAMILY,
            "Team Around the Family meeting: school, school nurse and family support worker."
            if s.engaged
            else f"{s.parent.formal} did not attend the Team Around the Family meeting.",
            Eng.ENGAGED if s.engaged else Eng.NOT_ENGAGED,
            details={"action_plan": [s.barrier[1]], "attendance_at_meeting": pct},
        )
    s.holder = s.traded or s.lead
    s.notes.append("Level 2 support meeting")


def review_support(s: Story, outcome: Res) -> None:
    s.wait(15, 16)
    before = percent(s.attendance)
    change = {Res.IMPROVED: 6.5, Res.SOME_IMPROVEMENT: 2.0, Res.NOT_IMPROVED: -3.0}[outcome]
    after = s.drift(change)
    s.support = s.result(
        s.holder,
        s.support,
        outcome,
        f"Three-week review: attendance {before} at the meeting, {after} since.",
    )


def level_three(s: Story, *, accepted: bool = True) -> None:
    """Formalise support: the statutory team takes the case and offers a contract."""
    s.wait(1, 2)
    pct = percent(s.attendance)
    if s.traded:
        s.fire(
            s.traded,
            "advance_to_formalise_support",
            f"Voluntary support has not worked (attendance {pct}): formal support needed.",
        )
        referral = s.refer(
            s.traded,
            Team.STATUTORY,
            "Level 3 referral: AIM plan not followed and attendance still falling.",
            {"summary": "; ".join(s.notes)},
        )
    else:
        referral = s.refer(
            s.lead,
            Team.STATUTORY,
            f"Statutory referral: Level 2 support has not improved attendance ({pct}).",
            s.referral_form(),
        )
    if not accepted:
        return
    s.wait(1, 4)
    s.accept(s.statutory, referral, "Accepted by the statutory attendance team.")
    if s.case.stage != Stage.FORMALISE:
        s.fire(
            s.statutory,
            "advance_to_formalise_support",
            "Support through the Team Around the Family was not engaged with or did not "
            "improve attendance: formal support.",
        )
    if s.rng.random() < 0.2:
        colleagues = ("statutory", "statutory2")
        other = next(s.work.users[n] for n in colleagues if s.work.users[n].id != s.statutory.id)
        s.hand_to(s.statutory, other, "Caseload balancing within the statutory team.")
        s.statutory = other
    s.wait(2, 5)
    terms = [
        f"{s.who} attends every day unless ill, with illness reported by 9am",
        s.barrier[1],
        "weekly attendance update from school to parent",
    ]
    if s.engaged:
        s.contract = s.record(
            s.statutory,
            Kind.ATTENDANCE_CONTRACT,
            f"Attendance contract agreed and signed by {s.parent.formal}.",
            Eng.ENGAGED,
            details={"terms": terms, "review_after": "4 school weeks"},
        )
    else:
        s.contract = s.record(
            s.statutory,
            Kind.ATTENDANCE_CONTRACT,
            f"Attendance contract offered; {s.parent.formal} declined to sign it.",
            Eng.DECLINED,
            Res.DECLINED,
            details={"terms": terms},
        )
    s.notes.append("attendance contract")


def absences(s: Story) -> list[ListedSession]:
    """Unauthorised sessions from the register, all in the last few school weeks."""
    rng = s.rng
    # Within nine calendar weeks, so they fall in one rolling window of ten school weeks (the
    # threshold's) even when the last twenty term days straddle the summer holiday.
    recent = s.work.days[max(s.opened_i + 1, s.i - 20) : s.i]
    pool = [day for day in recent if (s.day - day).days < 63]
    wanted = rng.randint(10, 16)
    listed: list[ListedSession] = []
    for day in rng.sample(pool, len(pool)):
        halves = ("AM", "PM") if rng.random() < 0.75 else (rng.choice(("AM", "PM")),)
        for half in halves:
            code = rng.choices(("O", "N", "U", "G"), weights=(80, 10, 7, 3))[0]
            listed.append(ListedSession(day, half, code))
        if len(listed) >= wanted:
            break
    return sorted(listed, key=lambda listed: (listed.day, listed.session))


def issue_notice(s: Story, on: int | None = None) -> None:
    if s.contract.outcome == Res.PENDING.value:
        s.wait(15, 18)
        s.contract = s.result(
            s.statutory,
            s.contract,
            Res.NOT_IMPROVED,
            f"Contract review: attendance {s.drift(-2.5)}; commitments not kept.",
        )
    if on is None:
        s.wait(1, 3)
    else:
        s.wait_until(on)
    sessions = absences(s)
    s.fire(
        s.statutory,
        "issue_notice_to_improve",
        f"Notice to Improve issued to each parent: {len(sessions)} unauthorised sessions "
        f"since {sessions[0].day:%d %B %Y}.",
        sessions=sessions,
    )
    s.notice = s.work.session.scalars(
        select(Intervention)
        .where(
            Intervention.case_id == s.case.id,
            Intervention.kind == Kind.NOTICE_TO_IMPROVE.value,
        )
        .order_by(Intervention.id.desc())
    ).first()
    s.notes.append("Notice to Improve")


def notice_result(s: Story, outcome: Res) -> None:
    s.wait(31, 33)
    expired = s.notice.details["expires_on"]
    if outcome == Res.NOT_IMPROVED:
        note = (
            f"Improvement period ended {expired}: attendance {s.drift(-1.5)}, with "
            f"{s.rng.randint(6, 14)} further unauthorised sessions."
        )
    else:
        note = f"Improvement period ended {expired}: attendance up to {s.drift(8.0)}."
    s.notice = s.result(s.statutory, s.notice, outcome, note)


def level_four(s: Story, *, refuse_first: bool = False) -> None:
    s.wait(0, 1)
    request = s.approval(
        "Notice to Improve expired without improvement after contract and support: "
        "request approval for legal intervention (Level 4)."
    )
    s.wait(1, 3)
    if refuse_first:
        s.decide(
            request,
            False,
            "Not yet: school reports new health concerns. Ask the school nurse to assess "
            "first, then bring the case back.",
        )
        s.wait(5, 8)
        s.record(
            s.statutory,
            Kind.REFERRAL,
            "School nurse asked to assess the health concerns raised by school.",
            details={"agency": "School nurse"},
        )
        s.wait(3, 5)
        request = s.approval(
            "School nurse found no health reason for the absence: request approval again."
        )
        s.wait(1, 2)
    s.decide(
        request,
        True,
        "Approved: support and the Notice to Improve are documented and did not work.",
    )
    s.wait(0, 2)
    s.fire(
        s.statutory,
        "advance_to_enforce",
        "Level 4: legal intervention approved by the attendance service manager.",
    )


def consider_supervision_order(s: Story) -> None:
    s.wait(2, 5)
    s.record(
        s.statutory,
        Kind.ESO_CONSIDERATION,
        "Education supervision order considered at the legal planning meeting (s447).",
        details={
            "decision": "not pursued",
            "reason": "Support through a plan has been offered and refused; an order "
            "would add no new support the family has not already declined.",
        },
    )


def prosecute(s: Story) -> None:
    consider_supervision_order(s)
    s.wait(4, 8)
    came = s.rng.random() < 0.6
    s.record(
        s.statutory,
        Kind.INTERVIEW_UNDER_CAUTION,
        f"{s.parent.formal} interviewed under caution (PACE)."
        if came
        else f"{s.parent.formal} did not attend the interview under caution.",
        Eng.ENGAGED if came else Eng.NOT_ENGAGED,
        Res.COMPLETED,
    )
    s.wait(5, 10)
    s.fire(
        s.statutory,
        "start_prosecution",
        "Information laid at Exampleton Magistrates' Court: s444(1) Education Act 1996.",
    )
