"""The 举证说明 ready to paste: placeholders filled from the case, the ones that cannot be filled
named (the overlay asks for them), and the text cut to the platform's limit with a warning.

Pure: the case's values in, the text and what is missing out.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

# What the seller is asked for, in the words of the platforms' pages.
PLACEHOLDER_LABELS = {"order_id": "订单编号", "tracking_number": "快递单号"}
MARKER = "【待填：{label}】"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")
CUT_MARK = "…"


class Blank(BaseModel):
    key: str
    label: str


class Explanation(BaseModel):
    text: str = Field(description="填好的说明；缺的值以（名称）标出，复制前须补上")
    ready: bool = Field(description="没有缺的值：可以直接复制粘贴")
    missing: list[Blank] = Field(default_factory=list)
    max_chars: int | None = None
    cut: bool = Field(default=False, description="超过平台字数上限，已截短")
    warning: str | None = None


def fill(template: str, values: dict[str, str | None], max_chars: int | None = None) -> Explanation:
    missing: list[Blank] = []

    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        value = (values.get(key) or "").strip()
        if value:
            return value
        label = PLACEHOLDER_LABELS.get(key, key)
        if key not in {b.key for b in missing}:
            missing.append(Blank(key=key, label=label))
        return MARKER.format(label=label)

    # Only {name} is a placeholder: a lone brace in a rule author's text stays text.
    text = _PLACEHOLDER.sub(one, template)
    cut = False
    warning = None
    if max_chars is not None and len(text) > max_chars:
        cut_at = _cut_point(text, max_chars - len(CUT_MARK))
        warning = f"说明有 {len(text)} 字，超过平台上限 {max_chars} 字，已截短：请核对结尾是否完整"
        text = text[:cut_at] + CUT_MARK
        cut = True
    return Explanation(text=text, ready=not missing, missing=missing, max_chars=max_chars, cut=cut, warning=warning)


def _cut_point(text: str, limit: int) -> int:
    """Cut after the last sentence end within the limit, if there is one in its last third."""
    head = text[:limit]
    ends = [head.rfind(p) for p in "。！？；;"]
    best = max(ends)
    return best + 1 if best >= limit * 2 // 3 else limit
