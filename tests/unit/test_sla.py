"""SLA clocks: limits by category and urgency, counting, and ladders from the limit and deadline."""

from datetime import UTC, datetime, timedelta

import pytest

from hotline.shared.configuration.file import EXAMPLE, ConfigError, load_config, parse_config
from hotline.shared.domain.config import Clock, Counting, Recipient
from hotline.shared.domain.lint import lint
from hotline.shared.domain.routing import Rules
from hotline.shared.domain.sla import (
    extended,
    keeper_for,
    next_repeat,
    plan_clock,
    plan_clocks,
    sign_for_deadline,
)
from hotline.shared.domain.ticket import Urgency

CONFIG = load_config(None)
POLICY, ZONE = CONFIG.sla, CONFIG.zone
T0 = datetime(2026, 3, 27, 19, 0, tzinfo=UTC)
TEXT = EXAMPLE.read_text(encoding="utf-8")


def test_deadline_by_urgency() -> None:
    deadline = sign_for_deadline(POLICY, ZONE, "supplies", Urgency.CRITICAL, T0)
    assert deadline == T0 + timedelta(minutes=10)
    assert sign_for_deadline(POLICY, ZONE, "supplies", Urgency.NORMAL, T0) == T0 + timedelta(
        hours=2
    )


def test_most_specific_category_wins_then_the_district_default() -> None:
    assert POLICY.limit(Clock.SIGN_FOR, "medical.emergency", Urgency.CRITICAL) == timedelta(
        minutes=5
    )
    assert POLICY.limit(Clock.SIGN_FOR, "medical.emergency", Urgency.NORMAL) == timedelta(hours=2)
    assert POLICY.limit(Clock.SIGN_FOR, "medical", Urgency.CRITICAL) == timedelta(minutes=10)
    assert POLICY.counting_of(Clock.RESOLUTION, "consult") is Counting.WORKING_TIME
    assert POLICY.counting_of(Clock.RESOLUTION, "consultx") is Counting.AROUND_THE_CLOCK


def test_three_clocks_each_with_its_ladder_in_order() -> None:
    plans = {p.clock: p for p in plan_clocks(POLICY, ZONE, "supplies.food", Urgency.URGENT, T0)}
    assert set(plans) == set(Clock)
    sign_for = plans[Clock.SIGN_FOR]
    deadline = T0 + timedelta(minutes=30)
    assert sign_for.due_at == deadline
    assert [(s.level, s.due_at) for s in sign_for.steps] == [
        (1, T0 + timedelta(minutes=15)),  # at 50%
        (2, deadline),
        (3, deadline + timedelta(minutes=30)),
        (4, deadline + timedelta(hours=2)),
    ]
    assert sign_for.steps[0].tell == (Recipient.UNIT,)
    assert sign_for.steps[-1].repeat_every == timedelta(hours=1)
    assert plans[Clock.RESOLUTION].due_at == T0 + timedelta(hours=8)


def test_working_time_clock_waits_for_office_hours() -> None:
    # Friday 27 Mar 2026, 19:00 UTC is Saturday 03:00 in Shanghai.
    plan = plan_clock(POLICY, ZONE, Clock.RESOLUTION, "consult", Urgency.URGENT, T0)
    assert plan.counting is Counting.WORKING_TIME
    # 8 working hours from Monday 08:30 (00:30 UTC): 3.5 h to 12:00, 4 h to 17:30, 0.5 h Tuesday.
    assert plan.due_at == datetime(2026, 3, 31, 1, 0, tzinfo=UTC)


def test_repeats_keep_their_rhythm_but_do_not_replay_downtime() -> None:
    keeper = keeper_for(POLICY, Counting.AROUND_THE_CLOCK, ZONE)
    every = timedelta(hours=1)
    assert next_repeat(keeper, T0, every, T0 + timedelta(seconds=1)) == T0 + every
    late = T0 + timedelta(hours=5)
    assert next_repeat(keeper, T0, every, late) == late + every


def test_extension_by_duration_or_until() -> None:
    keeper = keeper_for(POLICY, Counting.AROUND_THE_CLOCK, ZONE)
    assert extended(keeper, T0, extra=timedelta(hours=2)) == (
        T0 + timedelta(hours=2),
        timedelta(hours=2),
    )
    until = T0 + timedelta(days=1)
    assert extended(keeper, T0, until=until) == (until, timedelta(days=1))


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (
            ("{level: 2, name: unit-leader, after: 0s", "{level: 1, name: unit-leader, after: 0s"),
            "does not rise",
        ),
        (
            ("at: 50%, tell: unit}", "at: 50%, after: 1m, tell: unit}"),
            "exactly one of at and after",
        ),
        (("at: 50%", "at: 150%"), "less than or equal to 1"),
        (
            (
                "after: 30m, tell: [supervision-group, supervisor-unit]}",
                "after: 30m, tell: [supervision-group, supervisor-unit], repeat_every: 1h}",
            ),
            "only the last step may repeat",
        ),
        (("tell: unit-leader}", "tell: the-mayor}"), "tell"),
        (
            ("supervision_group: service-office", "supervision_group: nobody"),
            "unknown unit 'nobody'",
        ),
        (("- category: consult", "- category: pets"), "unknown category 'pets'"),
        (
            (
                "sign-for: {normal: 2h, urgent: 30m, critical: 10m}",
                "sign-for: {normal: 2h, urgent: 30m}",
            ),
            "no limit for critical",
        ),
        (
            ('hours: ["08:30-12:00", "13:30-17:30"]', 'hours: ["13:30-17:30", "08:30-12:00"]'),
            "overlap or are out of order",
        ),
        (("workdays: [2026-09-27", "workdays: [2026-10-01"), "both a holiday and a make-up"),
    ],
)
def test_bad_sla_config_is_refused_with_the_reason(edit: tuple[str, str], reason: str) -> None:
    assert edit[0] in TEXT
    with pytest.raises(ConfigError, match=reason):
        parse_config(TEXT.replace(*edit, 1), "d.yaml")


def test_config_check_warns_of_limits_out_of_order() -> None:
    text = TEXT.replace(
        "resolution: {normal: 24h, urgent: 8h, critical: 2h}",
        "resolution: {normal: 24h, urgent: 8h, critical: 15m}",
    )
    messages = [f.message for f in lint(Rules(parse_config(text, "d.yaml")))]
    assert [m for m in messages if m.startswith("sla:")] == [
        "sla: critical first-response limit 0:20:00 is longer than its resolution limit 0:15:00"
        " (supplies, supplies.food, supplies.medicine, medical, medical.dialysis, mobility,"
        " mobility.stranded, complaint, complaint.community-control, consult)"
    ]


#: A category override that brings its own sign-for ladder: medical tasks go straight from a
#: reminder to the unit's leader and the district leadership, repeating every 10 minutes.
MEDICAL_LADDER = """    - category: medical
      ladders:
        sign-for:
          - {level: 1, name: call-the-desk, at: 25%, tell: unit}
          - {level: 2, name: straight-up, after: 0s, tell: [unit-leader, district-leadership],
             repeat_every: 10m}
"""


def _with_medical_ladder(ladder: str = MEDICAL_LADDER) -> str:
    anchor = "    - category: medical.emergency\n"
    assert anchor in TEXT
    return TEXT.replace(anchor, ladder + anchor, 1)


def test_a_category_ladder_overrides_the_default_for_it_and_below_it() -> None:
    policy = parse_config(_with_medical_ladder(), "d.yaml").sla
    own = [(s.level, s.name, s.tell) for s in policy.ladder(Clock.SIGN_FOR, "medical")]
    assert own == [
        (1, "call-the-desk", (Recipient.UNIT,)),
        (2, "straight-up", (Recipient.UNIT_LEADER, Recipient.DISTRICT_LEADERSHIP)),
    ]
    assert policy.ladder(Clock.SIGN_FOR, "medical.dialysis") == policy.ladder(
        Clock.SIGN_FOR, "medical"
    )  # a sub-category with no override of its own
    # medical.emergency overrides limits only: its ladder still comes from medical
    plan = plan_clock(policy, ZONE, Clock.SIGN_FOR, "medical.emergency", Urgency.CRITICAL, T0)
    assert plan.limit == timedelta(minutes=5)
    assert [(s.level, s.due_at - T0, s.repeat_every) for s in plan.steps] == [
        (1, timedelta(seconds=75), None),  # 25% of its own 5 minutes
        (2, timedelta(minutes=5), timedelta(minutes=10)),
    ]
    # other clocks of the category, and other categories, keep the district's ladders
    assert policy.ladder(Clock.RESOLUTION, "medical") == policy.ladders[Clock.RESOLUTION]
    assert policy.ladder(Clock.SIGN_FOR, "supplies.food") == policy.ladders[Clock.SIGN_FOR]
    default = plan_clock(POLICY, ZONE, Clock.SIGN_FOR, "medical", Urgency.CRITICAL, T0)
    assert [s.level for s in default.steps] == [1, 2, 3, 4]


def test_a_category_ladder_that_does_not_climb_is_refused_with_its_category() -> None:
    bad = MEDICAL_LADDER.replace("{level: 2, name: straight-up", "{level: 1, name: straight-up")
    with pytest.raises(ConfigError, match=r"sla\.categories 'medical' ladders\.sign-for: level 1 "):
        parse_config(_with_medical_ladder(bad), "d.yaml")


def _ladder_warnings(text: str) -> list[str]:
    messages = [f.message for f in lint(Rules(parse_config(text, "d.yaml")))]
    return [m for m in messages if "tell nobody" in m or m.startswith("hotspots")]


def test_config_check_warns_of_ladder_steps_that_tell_nobody() -> None:
    assert _ladder_warnings(TEXT) == []
    leadership = "  leadership: district-leaders\n"
    assert leadership in TEXT
    assert _ladder_warnings(TEXT.replace(leadership, "")) == [
        "sla: ladder steps that tell district-leadership (sign-for level 4) tell nobody:"
        " sla.leadership names no unit"
    ]
    # a category's own ladder counts too, named by its category
    assert _ladder_warnings(_with_medical_ladder().replace(leadership, "")) == [
        "sla: ladder steps that tell district-leadership (sign-for level 4,"
        " medical sign-for level 2) tell nobody: sla.leadership names no unit"
    ]
    group = "  supervision_group: service-office\n"
    assert _ladder_warnings(TEXT.replace(group, "")) == [
        "sla: ladder steps that tell supervision-group (sign-for level 3, first-response"
        " level 2, resolution level 3) tell nobody: sla.supervision_group names no unit",
        "hotspots tell the supervision group, so nobody: sla.supervision_group names no unit",
    ]
    contacts = (
        "    contacts:\n"
        '      - {channel: phone, address: "+86-315-6310001"}\n'
        '      - {channel: sms, address: "+86-139-0315-0001"}\n'
    )
    assert contacts in TEXT
    mute = TEXT.replace(contacts, "")
    assert _ladder_warnings(mute) == [
        "sla: ladder steps that tell district-leadership (sign-for level 4) tell nobody:"
        " unit 'district-leaders' has no contact"
    ]
    alone = TEXT.replace("    supervisor: service-office\n", "")
    assert _ladder_warnings(alone) == [
        "sla: ladder steps that tell supervisor-unit (sign-for level 3, resolution level 3)"
        " tell nobody: no unit names a supervisor"
    ]
