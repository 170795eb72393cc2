"""One shop, two marketplaces: a Tmall shop's case is also shown on taobao.com hosts (refund2, 千牛),
so the same after-sale can be detected first as 淘宝 and later as 天猫 (the seller said the shop is
a Tmall shop), or back. Alibaba order ids are one id space across both, so it is the same order:
the existing case is relabelled, never doubled.

Relabelling keeps the case's id, the seller's ticks, its deadline sources (page, request, seller)
and status. A detected scenario of the other platform is dropped so detection recognises the page
again under the new platform; a scenario the seller chose moves to its twin (``taobao.not_received``
↔ ``tmall.not_received``) when there is one, else it is dropped too. The order's evidence folder
moves along (:mod:`..evidence.order_move`).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any

from ..errors import Conflict
from ..events import CASE_CHANGED
from ..rules import Rulebook
from ..store import Case

if TYPE_CHECKING:
    from .models import DetectRequest
    from .service import CaseService

log = logging.getLogger(__name__)

# The marketplaces that share hosts, order ids and a seller back office.
SISTERS = {"taobao": "tmall", "tmall": "taobao"}


def sister_case(cases: CaseService, req: DetectRequest) -> Case | None:
    """The case of this page filed under the sister platform, by the same rule that finds a case."""
    from .detection import existing_case  # detection imports this module

    other = SISTERS.get(req.platform)
    if other is None:
        return None
    return existing_case(cases.store, req.model_copy(update={"platform": other}))


def twin_scenario(book: Rulebook, scenario_id: str | None, platform: str) -> str | None:
    """``taobao.x`` → ``tmall.x`` when the other platform has it."""
    if not scenario_id or "." not in scenario_id:
        return None
    twin = f"{platform}.{scenario_id.split('.', 1)[1]}"
    return twin if book.scenario_platform.get(twin) == platform else None


def relabel(cases: CaseService, case: Case, platform: str) -> Case:
    """File ``case`` under ``platform`` (its sister), moving the order's evidence folder along."""
    book = cases.rulebook()
    fields: dict[str, Any] = {}
    twin = twin_scenario(book, case.scenario, platform) if case.scenario_source == "seller" else None
    if twin:
        fields.update(scenario=twin, scenario_source="seller")
    elif case.scenario and book.scenario_platform.get(case.scenario) != platform:
        fields.update(scenario=None, scenario_source="detected")  # recognised again under the new platform
    try:
        moved = cases.store.relabel_case(case.id, platform, **fields)
    except sqlite3.IntegrityError as exc:
        label = book.platforms[platform].label
        raise Conflict(
            f"这个订单在{label}下已经有同一个售后的案子，无法改为{label}：请在案子列表中核对",
            code="marketplace_conflict",
        ) from exc
    assert moved is not None
    if cases.evidence is not None:
        report = cases.evidence.move_order(case.platform, platform, case.order_id)
        if report.left:
            log.warning("relabel of case %s left %d files in place: %s", case.id, len(report.left), report.left)
    else:
        for record in cases.store.evidence_for_order(case.platform, case.order_id):
            if record.path is None:
                cases.store.update_evidence(record.id, platform=platform)
    cases.bus.publish(CASE_CHANGED, {"case_id": case.id, "platform": [case.platform, platform]}, case.id)
    return moved
