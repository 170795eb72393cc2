"""Build a :class:`.Rulebook` from the YAML files of a rules directory, or explain what is wrong.

Every error names the file, the line and the field, so a seller or rule author can fix it without
reading code. All errors of a directory are collected, not just the first. Imported only when the
files are read (see :mod:`.loader`): YAML, the models' validators and the wording checks are what
``juzheng sort`` saves at start-up when its cached rulebook is still current.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ValidationError

from .case_gate import FILE_NAME as CASE_GATE_FILE
from .loader import Rulebook, RulebookError
from .models import EvidenceKind, KindsFile, Platform, PlatformFile, Scenario, SynonymsFile, ToolName, Vocabulary
from .vocabulary_check import check_vocabulary, check_wording
from .yaml_source import LocatedData, Path as DataPath, SourceError, YamlProblem, dotted, load_located


def compile_rulebook(root: Path, files: list[Path]) -> Rulebook:
    """Read ``files`` (every ``*.yaml`` under ``root``); raise :class:`RulebookError` listing all problems."""
    errors: list[SourceError] = []
    if not files:
        raise RulebookError([SourceError(str(root), None, "", "目录中没有规则文件（*.yaml） / no rule files found")])

    kinds: list[tuple[str, LocatedData, EvidenceKind, int]] = []
    tool_names: list[tuple[str, LocatedData, ToolName, int]] = []
    platforms: list[tuple[str, LocatedData, Platform]] = []
    vocabularies: list[tuple[str, LocatedData, Vocabulary]] = []
    for path in files:
        name = _display(path, root)
        try:
            located = load_located(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            errors.append(SourceError(name, None, "", f"文件不是 UTF-8 编码：{exc.reason}"))
            continue
        except YamlProblem as exc:
            errors.append(SourceError(name, exc.line, exc.field, exc.message))
            continue
        data = located.data
        if isinstance(data, dict) and "kinds" in data:
            model = _validate(KindsFile, located, name, errors)
            if model:
                kinds.extend((name, located, kind, i) for i, kind in enumerate(model.kinds))
                tool_names.extend((name, located, tool, i) for i, tool in enumerate(model.screenshot_names))
        elif isinstance(data, dict) and "platform" in data:
            model = _validate(PlatformFile, located, name, errors)
            if model:
                platforms.append((name, located, model.platform))
        elif isinstance(data, dict) and "synonyms" in data:
            model = _validate(SynonymsFile, located, name, errors)
            if model:
                vocabularies.append((name, located, model.synonyms))
        else:
            errors.append(SourceError(name, 1, "", "规则文件的顶层必须是 kinds:、platform: 或 synonyms:"))

    errors.extend(_cross_check(kinds, platforms))
    for name, located, platform in platforms:
        errors.extend(check_wording(name, located, platform))
    for name, _located, _vocabulary in vocabularies[1:]:
        errors.append(SourceError(name, 1, "synonyms", f"词表只能有一个文件（已在 {vocabularies[0][0]} 中定义）"))
    if vocabularies:
        errors.extend(check_vocabulary(*vocabularies[0]))
    errors.extend(_check_tool_names(tool_names))
    gate = root / CASE_GATE_FILE
    if errors:
        raise RulebookError(errors)
    return Rulebook(
        [k for _, _, k, _ in kinds], [p for _, _, p in platforms], vocabularies[0][2] if vocabularies else None,
        [t for _, _, t, _ in tool_names], gate if gate.is_file() else None,
    )


def _check_tool_names(tools: list[tuple[str, LocatedData, ToolName, int]]) -> Iterable[SourceError]:
    for name, located, tool, i in tools:
        try:
            re.compile(tool.pattern)
        except re.error as exc:
            path = ("screenshot_names", i, "pattern")
            yield SourceError(name, located.line_of(path), dotted(path), f"正则表达式无效：{exc}")


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _validate(model: type[BaseModel], located: LocatedData, name: str, errors: list[SourceError]):
    try:
        return model.model_validate(located.data)
    except ValidationError as exc:
        for err in exc.errors():
            loc: DataPath = tuple(err["loc"])
            errors.append(SourceError(name, located.line_of(loc), dotted(loc), _message(dict(err))))
        return None


def _message(err: dict) -> str:
    if err["type"] == "extra_forbidden":
        return "未知字段（拼写错误？） / unknown field"
    if err["type"] == "missing":
        return "缺少必填字段 / field required"
    return err["msg"]


def _cross_check(
    kinds: list[tuple[str, LocatedData, EvidenceKind, int]],
    platforms: list[tuple[str, LocatedData, Platform]],
) -> Iterable[SourceError]:
    seen: dict[str, str] = {}
    for name, located, kind, i in kinds:
        where = ("kinds", i, "id")
        if kind.id in seen:
            yield SourceError(name, located.line_of(where), dotted(where), f"重复的证据类型 ID {kind.id!r}（首次出现于 {seen[kind.id]}）")
        seen[kind.id] = name
    known_kinds = set(seen)
    known_platforms: dict[str, str] = {}
    scenario_ids: dict[str, str] = {}
    for name, located, platform in platforms:
        if platform.id in known_platforms:
            path = ("platform", "id")
            yield SourceError(name, located.line_of(path), dotted(path), f"重复的平台 ID {platform.id!r}（首次出现于 {known_platforms[platform.id]}）")
        known_platforms[platform.id] = name
        for field_name in ("order_id_pattern",):
            try:
                re.compile(getattr(platform, field_name))
            except re.error as exc:
                path = ("platform", field_name)
                yield SourceError(name, located.line_of(path), dotted(path), f"正则表达式无效：{exc}")
        for s_index, scenario in enumerate(platform.scenarios):
            base: DataPath = ("platform", "scenarios", s_index)
            if not scenario.id.startswith(platform.id + "."):
                yield SourceError(name, located.line_of((*base, "id")), dotted((*base, "id")), f"场景 ID 必须以 {platform.id}. 开头")
            if scenario.id in scenario_ids:
                yield SourceError(name, located.line_of((*base, "id")), dotted((*base, "id")), f"重复的场景 ID {scenario.id!r}（首次出现于 {scenario_ids[scenario.id]}）")
            scenario_ids[scenario.id] = name
            yield from _kind_refs(name, located, base, scenario, known_kinds)
        for scenario_id in (platform.upload.scenarios if platform.upload else {}):
            if not any(s.id == scenario_id for s in platform.scenarios):
                upload_at: tuple[str, ...] = ("platform", "upload", "scenarios", scenario_id)
                yield SourceError(name, located.line_of(upload_at), dotted(upload_at), f"upload.scenarios 指向本平台不存在的场景 {scenario_id!r}")
    for name, located, platform in platforms:
        for s_index, scenario in enumerate(platform.scenarios):
            if scenario.based_on and scenario.based_on not in scenario_ids:
                ref: DataPath = ("platform", "scenarios", s_index, "based_on")
                yield SourceError(name, located.line_of(ref), dotted(ref), f"based_on 指向不存在的场景 {scenario.based_on!r}")


def _kind_refs(name: str, located: LocatedData, base: DataPath, scenario: Scenario, known: set[str]) -> Iterable[SourceError]:
    refs: list[tuple[DataPath, str]] = []
    for o, option in enumerate(scenario.requires):
        refs += [((*base, "requires", o, "kinds", k), kind) for k, kind in enumerate(option.kinds)]
    for r, rejection in enumerate(scenario.rejected):
        if rejection.kind:
            refs.append(((*base, "rejected", r, "kind"), rejection.kind))
    if scenario.stricter:
        refs += [((*base, "stricter", "kinds", k), kind) for k, kind in enumerate(scenario.stricter.kinds)]
    if scenario.deadline:
        stage_ids = {"request"}
        for st, stage in enumerate(scenario.deadline.stages):
            refs += [((*base, "deadline", "stages", st, "kinds", k), kind) for k, kind in enumerate(stage.kinds)]
            if stage.after not in stage_ids:
                path = (*base, "deadline", "stages", st, "after")
                yield SourceError(name, located.line_of(path), dotted(path), f"after 必须是 request 或前面阶段的 ID，而不是 {stage.after!r}")
            stage_ids.add(stage.id)
    for path, kind in refs:
        if kind not in known:
            yield SourceError(name, located.line_of(path), dotted(path), f"未定义的证据类型 {kind!r}（应在 kinds.yaml 中定义）")
