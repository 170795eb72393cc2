"""JSON Schema of the rule files, committed as rules/schema.json so editors validate as you type."""

from __future__ import annotations

import json

from pydantic import TypeAdapter

from .models import RuleFile


def rules_schema() -> dict:
    schema = TypeAdapter(RuleFile).json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "举证助手规则文件 (rules/kinds.yaml, rules/platforms/*.yaml)"
    return schema


def rules_schema_text() -> str:
    return json.dumps(rules_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
