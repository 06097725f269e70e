"""hotline simulate draws requests the intake accepts, in the district's categories and areas,
with the hotline's mix; and picks the share of units that answer."""

from __future__ import annotations

import random
from collections import Counter

from hotline.intake.handlers import check_request
from hotline.intake.schemas import NewRequest
from hotline.shared.config_file import load_config
from hotline.shared.domain.routing import Router
from hotline.simulate import Mix, responsive_units

CONFIG = load_config(None)


def test_every_drawn_request_is_one_the_intake_accepts() -> None:
    mix, router = Mix(CONFIG, random.Random(1)), Router(CONFIG)
    drawn = [NewRequest.model_validate(mix.request()) for _ in range(300)]
    for request in drawn:
        check_request(router, request)  # raises on an unknown category or area
    urgencies = Counter(r.urgency.value for r in drawn)
    assert urgencies["normal"] > urgencies["urgent"] > urgencies["critical"] > 0
    assert {r.category.split(".")[0] for r in drawn} == {
        c.id for c in CONFIG.categories if "." not in c.id
    }
    assert len({r.location.area_code for r in drawn}) == len(CONFIG.areas)
    assert len({r.caller.name for r in drawn}) == 300, "each made-up caller is distinct"


def test_the_responsive_share_of_units_answers() -> None:
    units = len(CONFIG.unit_ids)
    assert len(responsive_units(CONFIG, 0.6, random.Random(2))) == round(units * 0.6)
    assert responsive_units(CONFIG, 1.0, random.Random(2)) == set(CONFIG.unit_ids)
    assert len(responsive_units(CONFIG, 0.01, random.Random(2))) == 1
    assert responsive_units(CONFIG, 0.0, random.Random(2)) == set()
