"""One form generator for every command: the fields come from the command's request model (built
from the event catalogue and the operation table for the API, services/api/commands.py), the
Chinese labels and enum names from the catalogue, the defaults from the rule table's (the model's).
Submitted text is turned back into the request the API would receive and validated by the same
model; a refusal is shown beside the field it concerns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from events.catalogue import EventType

DATE = r"^\d{4}-\d{2}-\d{2}$"
KIND_HELP = {"lines": "每行一项", "json": "JSON 格式"}  # how a field of this kind is typed in


@dataclass
class FormField:
    name: str  # dotted path in the request ("basis.document_no")
    label: str
    kind: str  # text | textarea | lines | date | integer | number | select | checkboxes | bool | json
    required: bool
    help: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, 中文)
    value: Any = None
    error: str = ""


def _schema_of(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The property's schema without the null alternative, and whether null was allowed."""
    if "$ref" in prop:
        return defs[prop["$ref"].rsplit("/", 1)[-1]], False
    alternatives = prop.get("anyOf")
    if alternatives:
        real = [a for a in alternatives if a.get("type") != "null"]
        return ({**real[0], **{k: v for k, v in prop.items() if k != "anyOf"}} if real else prop), len(real) < len(alternatives)
    return prop, False


def fields_of(model: type[BaseModel], event_type: EventType) -> list[FormField]:
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    names = {f.name: f for f in event_type.fields}
    out: list[FormField] = []

    def walk(properties: dict[str, Any], required: set[str], prefix: str) -> None:
        for name, prop in properties.items():
            spec, nullable = _schema_of(prop, defs)
            path = f"{prefix}{name}"
            label = prop.get("title") or spec.get("title") or name
            needed = name in required
            default = prop.get("default", spec.get("default"))
            restricted = "restricted" in (prop.get("description") or "")
            if spec.get("type") == "object" and "properties" in spec:
                walk(spec["properties"], set(spec.get("required", [])), f"{path}.")
                continue
            catalogue = names.get(name) if not prefix else None
            kind, options = "text", []
            if "enum" in spec:
                kind = "select"
                options = [(v, catalogue.name_of(v) if catalogue else str(v)) for v in spec["enum"]]
            elif spec.get("type") == "array":
                items, _ = _schema_of(spec.get("items", {}), defs)
                if "enum" in items:
                    kind = "checkboxes"
                    item_field = catalogue.items if catalogue is not None and catalogue.items is not None else catalogue
                    options = [(v, item_field.name_of(v) if item_field else str(v)) for v in items["enum"]]
                else:
                    kind = "lines" if items.get("type") == "string" else "json"
            elif spec.get("type") == "boolean":
                kind = "bool"
            elif spec.get("type") == "integer":
                kind = "integer"
            elif spec.get("type") == "number":
                kind = "number"
            elif spec.get("pattern") == DATE:
                kind = "date"
            elif spec.get("type") == "object":
                kind = "json"
            elif (spec.get("maxLength") or 0) > 200:
                kind = "textarea"
            help_text = "；".join(filter(None, ("不公开字段，仅有权限的部门可见" if restricted else "", KIND_HELP.get(kind, ""))))
            out.append(FormField(path, label, kind, needed and not nullable, help_text, options, default))

    walk(schema.get("properties", {}), set(schema.get("required", [])), "")
    return out


def request_from(form: dict[str, list[str]], fields: list[FormField]) -> tuple[dict[str, Any], dict[str, str]]:
    """The request body the submitted form stands for, and the fields that could not be read."""
    body: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for spec in fields:
        values = [v for v in form.get(spec.name, []) if v != ""]
        raw = values[0].strip() if values else ""
        value: Any
        if spec.kind == "checkboxes":
            value = values or None
        elif spec.kind == "bool":
            value = raw == "true" if raw else None
        elif not raw:
            value = None
        elif spec.kind == "integer":
            try:
                value = int(raw)
            except ValueError:
                problems[spec.name] = "应为整数"
                continue
        elif spec.kind == "lines":
            value = [line.strip() for line in raw.splitlines() if line.strip()]
        elif spec.kind == "json":
            try:
                value = json.loads(raw)
            except ValueError:
                problems[spec.name] = "不是有效的 JSON"
                continue
        else:
            value = raw
        if value is None:
            continue
        target = body
        *parents, leaf = spec.name.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return body, problems


def validated(model: type[BaseModel], body: dict[str, Any]) -> tuple[BaseModel | None, dict[str, str]]:
    """The model the API would build from the body, or the problems by field (the API's own rules)."""
    try:
        return model.model_validate(body), {}
    except ValidationError as error:
        problems: dict[str, str] = {}
        for item in error.errors():
            path = ".".join(str(p) for p in item["loc"] if not isinstance(p, int))
            problems.setdefault(path or "_", _zh(item))
        return None, problems


def _zh(item: dict[str, Any]) -> str:
    kind = item.get("type", "")
    context = item.get("ctx") or {}
    return {
        "missing": "必填", "string_too_short": "不能为空", "string_too_long": f"不能超过 {context.get('max_length')} 个字符",
        "string_pattern_mismatch": "格式不正确", "enum": "取值不在允许范围内", "literal_error": "取值不在允许范围内",
        "int_parsing": "应为整数", "greater_than_equal": f"不能小于 {context.get('ge')}", "less_than_equal": f"不能大于 {context.get('le')}",
        "extra_forbidden": "不应填写此项", "bool_parsing": "应为是或否", "list_type": "应为多项", "dict_type": "格式不正确",
    }.get(kind, "填写不正确")
