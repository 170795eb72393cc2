"""Cross-checks of the recognition vocabulary and of scenario wording, with file and line.

Two scenarios of one platform sharing a key phrase would let that phrase decide for whichever
happens to score more elsewhere (已按时发货 is the premise of two late-shipment scenarios); such a
phrase belongs in ``shared_wording`` of both, where it describes without deciding.
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import Platform, Vocabulary
from .text_prep import normalise
from .yaml_source import LocatedData, Path, SourceError, dotted


def check_wording(name: str, located: LocatedData, platform: Platform) -> Iterable[SourceError]:
    owner: dict[str, str] = {}
    for s_index, scenario in enumerate(platform.scenarios):
        for w_index, phrase in enumerate(scenario.wording):
            path: Path = ("platform", "scenarios", s_index, "wording", w_index)
            key = normalise(phrase)
            if not key:
                yield SourceError(name, located.line_of(path), dotted(path), "关键说法去掉标点空格后为空")
                continue
            first = owner.get(key)
            if first and first != scenario.id:
                yield SourceError(
                    name,
                    located.line_of(path),
                    dotted(path),
                    f"说法 {phrase!r} 已用于同平台的场景 {first}；确实共用时请写进两个场景的 shared_wording",
                )
            owner.setdefault(key, scenario.id)


def check_vocabulary(name: str, located: LocatedData, vocabulary: Vocabulary) -> Iterable[SourceError]:
    seen: dict[str, str] = {}
    canonicals = {normalise(g.canonical) for g in vocabulary.groups}
    for g_index, group in enumerate(vocabulary.groups):
        for v_index, variant in enumerate(group.variants):
            path: Path = ("synonyms", "groups", g_index, "variants", v_index)
            key = normalise(variant)
            line, where = located.line_of(path), dotted(path)
            if not key:
                yield SourceError(name, line, where, "同义词去掉标点空格后为空")
            elif key in seen:
                yield SourceError(name, line, where, f"同义词 {variant!r} 重复：已属于「{seen[key]}」一组")
            elif key in canonicals:
                yield SourceError(name, line, where, f"同义词 {variant!r} 是另一组的 canonical，会造成连环替换")
            seen.setdefault(key, group.canonical)
    for f_index, field in enumerate(vocabulary.strong_fields):
        if field in vocabulary.weak_fields:
            field_path: Path = ("synonyms", "strong_fields", f_index)
            yield SourceError(name, located.line_of(field_path), dotted(field_path), f"字段 {field!r} 不能同时在 strong_fields 和 weak_fields 中")
    # The calibration is looked up by bisection on raw_from, and a confidence must not fall as the
    # evidence gets stronger.
    for b_index, step in enumerate(vocabulary.calibration):
        bin_path: Path = ("synonyms", "calibration", b_index)
        before = vocabulary.calibration[b_index - 1] if b_index else None
        if before is None and step.raw_from != 0:
            yield SourceError(name, located.line_of(bin_path), dotted(bin_path), "校准表的第一格必须从 raw_from: 0 开始")
        elif before is not None and step.raw_from <= before.raw_from:
            yield SourceError(name, located.line_of(bin_path), dotted(bin_path), "校准表的 raw_from 必须逐格增大")
        elif before is not None and step.accuracy < before.accuracy:
            yield SourceError(name, located.line_of(bin_path), dotted(bin_path), "校准表的 accuracy 不能随强度增大而变小")
