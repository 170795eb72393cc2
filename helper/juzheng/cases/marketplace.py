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
from ..rules import Rulebook, recognise
from ..rules.models import Platform
from ..store import Case
from .models import DetectRequest, RecognitionInfo

if TYPE_CHECKING:
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


def sister(
    cases: CaseService, book: Rulebook, req: DetectRequest, platform: Platform, recognition: RecognitionInfo | None,
    scenario_id: str | None, text: str,
) -> tuple[Platform, DetectRequest, Case | None, RecognitionInfo | None, str | None]:
    """For a page with no case under its platform: the order's case under the sister marketplace.

    The page (or the seller's pick) says 天猫: the 淘宝 case becomes a 天猫 case. The seller says 淘宝:
    the 天猫 case goes back. A page that says nothing (no 天猫 on a taobao.com host) is no evidence
    against a case already known as 天猫: it is that case, read as 天猫. Returns what detection goes
    on with: (platform, request, case, recognition, scenario)."""
    found_case = sister_case(cases, req)
    if found_case is None:
        return platform, req, None, recognition, scenario_id
    read_as = platform.id
    if req.platform == "taobao" and req.platform_source != "seller":
        platform = book.platforms[found_case.platform]
        req = req.model_copy(update={"platform": platform.id, "scenario": twin_scenario(book, req.scenario, platform.id)})
    else:
        found_case = relabel(cases, found_case, platform.id)
    if not req.scenario and text and platform.id != read_as:  # the page was read as the other marketplace
        found = recognise(book, platform.id, text)
        recognition = RecognitionInfo.model_validate(found.model_dump())
        scenario_id = found.scenario if found.scenario and book.scenario_platform[found.scenario] == platform.id else None
    elif req.scenario:
        scenario_id = req.scenario
    return platform, req, found_case, recognition, scenario_id


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
