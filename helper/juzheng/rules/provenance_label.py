"""Provenance in the seller's words: where a rule comes from, never an internal number."""

from __future__ import annotations

from .models import Provenance

# The source articles by what they are to a seller; the numbers stay internal.
SOURCE_TITLES = {
    "000": "淘宝举证号与延迟发货举证说明",
    "001": "淘宝不合理评价投诉说明",
    "002": "拼多多售后举证说明",
    "003": "抖音小店仲裁凭证说明",
    "004": "天猫小二介入说明",
}
COMMON_PRACTICE = "通用做法，非平台规则"


def provenance_label(provenance: Provenance) -> str:
    if provenance.source == "common_practice":
        return COMMON_PRACTICE
    if provenance.source == "seed" and provenance.seed in SOURCE_TITLES:
        return f"来源：{SOURCE_TITLES[provenance.seed]}"
    return "来源：公开资料（非平台正式规则）"
