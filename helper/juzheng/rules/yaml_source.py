"""YAML read with the line of every value, so a rule error can say where it is.

PyYAML's composer keeps marks on nodes; we build plain data from the node tree and a map from each
path (tuple of keys and indexes) to its 1-based line. Duplicate keys, which PyYAML would silently
let the last one win, are reported instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceError:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field or '(文件)'}: {self.message}"


@dataclass
class LocatedData:
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """Line of the deepest part of ``path`` that exists in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


class YamlProblem(Exception):
    def __init__(self, line: int | None, field: str, message: str) -> None:
        super().__init__(message)
        self.line, self.field, self.message = line, field, message


def dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# libyaml's parser (shipped in PyYAML's wheels) composes the same node tree with the same marks ~10×
# faster: the rule files were most of `juzheng sort`'s start-up. A file it refuses is parsed again by
# the pure-Python one, so the error and its line are reported exactly as before.
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def load_located(text: str) -> LocatedData:
    node: yaml.Node | None = None
    parsed = False
    if _FAST_LOADER is not None:
        try:
            node, parsed = yaml.compose(text, Loader=_FAST_LOADER), True
        except yaml.YAMLError:
            pass
    try:
        if not parsed:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlProblem(mark.line + 1 if mark else None, "", f"YAML 语法错误：{exc.problem or exc}") from exc
    except yaml.reader.ReaderError as exc:  # a control character: no line mark, but a position
        line = text.count("\n", 0, exc.position) + 1
        raise YamlProblem(line, "", f"文件含有不允许的控制字符 #x{exc.character:04x}，请删除") from exc
    located = LocatedData(data=None)
    if node is None:
        return located
    located.data = _build(node, (), located.lines)
    return located


def _build(node: yaml.Node, path: Path, lines: dict[Path, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if key in out:
                raise YamlProblem(key_node.start_mark.line + 1, dotted((*path, key)), f"重复的键 {key!r}")
            out[key] = _build(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), lines) for i, item in enumerate(node.value)]
    return _scalar(node)


_CONSTRUCTOR = yaml.SafeLoader("")


def _scalar(node: yaml.Node) -> Any:
    try:
        return _CONSTRUCTOR.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:  # a lone ``=`` is the value tag, which SafeLoader cannot build
        raise YamlProblem(node.start_mark.line + 1, "", f"YAML 语法错误：{exc.problem or exc}") from exc
    finally:
        _CONSTRUCTOR.constructed_objects.clear()
