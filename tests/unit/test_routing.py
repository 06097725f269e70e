"""The routing decision: first fitting rule, explained; returned units never chosen again."""

from hypothesis import given
from hypothesis import strategies as st

from hotline.shared.config_file import load_config
from hotline.shared.domain.routing import FALLBACK_RULE, RouteRequest, decide
from hotline.shared.domain.ticket import Urgency

CONFIG = load_config(None)


def test_category_rule_wins_over_area() -> None:
    decision = decide(CONFIG, RouteRequest("medical.dialysis", "130202001001", Urgency.URGENT))
    assert decision is not None
    assert decision.unit == "health-bureau"
    assert decision.rule == "medical to the health bureau"
    assert decision.tried[-1].failed is None


def test_area_prefix_matches_a_community_of_the_street() -> None:
    decision = decide(CONFIG, RouteRequest("supplies.food", "130202001001", Urgency.NORMAL))
    assert decision is not None and decision.unit == "friendship-street"
    failed = {t.rule: t.failed for t in decision.tried}
    assert failed["medical to the health bureau"] == "category supplies.food not under medical"


def test_category_prefix_respects_the_dot() -> None:
    # "medical" must not match a category that merely starts with the same letters
    config = CONFIG.model_copy(
        update={"categories": (*CONFIG.categories,)},
    )
    decision = decide(config, RouteRequest("medicalx", "130202002", Urgency.NORMAL))
    assert decision is not None and decision.unit == "xueyuan-street"


def test_unmatched_goes_to_fallback_with_every_rule_explained() -> None:
    decision = decide(CONFIG, RouteRequest("consult", None, Urgency.NORMAL))
    assert decision is not None
    assert (decision.unit, decision.rule) == ("service-office", FALLBACK_RULE)
    assert len(decision.tried) == len(CONFIG.routes)
    assert all(t.failed for t in decision.tried)
    assert "area (none)" in decision.explain()


def test_returned_unit_is_skipped() -> None:
    decision = decide(
        CONFIG, RouteRequest("supplies.food", "130202001", Urgency.NORMAL), ["friendship-street"]
    )
    assert decision is not None and decision.unit == "service-office"
    assert decision.tried[2].failed == "unit friendship-street returned this task"


def test_no_unit_left_means_triage() -> None:
    request = RouteRequest("consult", None, Urgency.NORMAL)
    assert decide(CONFIG, request, ["service-office"]) is None


codes = st.sampled_from([None, *[a.code for a in CONFIG.areas], "999"])
categories = st.sampled_from([c.id for c in CONFIG.categories])


@given(categories, codes, st.sampled_from(list(Urgency)))
def test_every_request_gets_exactly_one_unit_deterministically(
    category: str, code: str | None, urgency: Urgency
) -> None:
    request = RouteRequest(category, code, urgency)
    first = decide(CONFIG, request)
    assert first is not None and first.unit in CONFIG.unit_ids
    assert decide(CONFIG, request) == first
