"""The event catalogue: the single source of what each event holds and which fields are public.

Every event type is declared once, as data. From the declaration come: payload validation at the
write side, the JSON Schemas other departments' systems consume (``events/schemas/``), and the
public view that the site and the public API are allowed to show. A field is restricted unless
its declaration says ``public=True``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Value kinds a payload field may have. Each maps to one JSON Schema fragment.
# "fragment": an object whose members are fields of another event type, named by the sibling
# field ``fragment_of`` (a correction carries the corrected fields of the event it corrects).
KINDS = ("string", "text", "integer", "boolean", "date", "decimal", "enum", "object", "array", "fragment")

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
DECIMAL_PATTERN = r"^-?\d{1,12}(\.\d{1,4})?$"
REGION_CODE_PATTERN = r"^\d{6}$"
CREDIT_CODE_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    title_zh: str
    public: bool = False
    required: bool = True
    enum: tuple[str, ...] = ()
    pattern: str | None = None
    minimum: int | None = None
    max_length: int | None = None
    items: Field | None = None  # for kind="array"
    fields: tuple[Field, ...] = ()  # for kind="object"
    fragment_of: str | None = None  # for kind="fragment": the sibling field naming the event type
    # an enum's values in Chinese, as every message, view and page names them (given as ``enum``:
    # a mapping of value to name)
    names: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind}")
        if isinstance(self.enum, Mapping):
            object.__setattr__(self, "names", dict(self.enum))
            object.__setattr__(self, "enum", tuple(self.enum))
        if self.kind == "enum" and not self.enum:
            raise ValueError(f"{self.name}: an enum needs its values")
        if self.kind == "enum" and set(self.names) != set(self.enum):
            raise ValueError(f"{self.name}: an enum names every value in Chinese")
        if self.kind == "array" and self.items is None:
            raise ValueError(f"{self.name}: an array needs its item declaration")
        if self.kind == "object" and not self.fields:
            raise ValueError(f"{self.name}: an object needs its fields")
        if self.kind == "fragment" and not self.fragment_of:
            raise ValueError(f"{self.name}: a fragment names the field that gives its event type")

    def name_of(self, value: str) -> str:
        """An enum value's Chinese name."""
        return self.names.get(value, value)


def date_field(name: str, title: str, *, public: bool = True, required: bool = True) -> Field:
    """A calendar date (YYYY-MM-DD), the commonest field of a decision."""
    return Field(name, "date", title, public=public, required=required, pattern=DATE_PATTERN)


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    aggregate_type: str
    title_zh: str
    description: str
    fields: tuple[Field, ...]
    institution_scoped: bool = True
    # When set: the departments (named by the payload) that alone read the restricted fields, the
    # supervising department only if it is one of them; auditors always do.
    readers: Callable[[dict[str, Any]], Iterable[str] | None] | None = None
    # With ``readers``: no one else sees the decision at all (an inspection before it takes place
    # would tell whom the inspectors will visit, and when).
    confidential: bool = False

    def field_named(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass
class Catalogue:
    types: dict[str, EventType] = field(default_factory=dict)

    def register(self, event_type: EventType) -> EventType:
        if event_type.name in self.types:
            raise ValueError(f"event type {event_type.name} declared twice")
        self.types[event_type.name] = event_type
        return event_type

    def __getitem__(self, name: str) -> EventType:
        return self.types[name]

    def __contains__(self, name: object) -> bool:
        return name in self.types

    def __iter__(self):
        return iter(self.types.values())


CATALOGUE = Catalogue()


# --- validation -------------------------------------------------------------------------------


# Characters no recorded text may hold: C0/C1 controls (a "text" field keeps tab, line feed and
# carriage return), lone surrogates, and the bidirectional overrides and isolates that make a name
# read differently from what is stored. Sealed forever, such a value could never be corrected away.
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\ufeff"
FORBIDDEN_IN_TEXT = re.compile(f"[{_CONTROLS}]")
FORBIDDEN_IN_STRING = re.compile(f"[\t\n\r{_CONTROLS}]")


def forbidden_character(value: str, *, multiline: bool) -> str | None:
    """The first character ``value`` may not hold, as U+XXXX, or None."""
    found = (FORBIDDEN_IN_TEXT if multiline else FORBIDDEN_IN_STRING).search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


@dataclass(frozen=True)
class Problem:
    path: str
    message_zh: str
    message_en: str


def _problems_for_value(spec: Field, value: Any, path: str) -> list[Problem]:
    def bad(zh: str, en: str) -> list[Problem]:
        return [Problem(path, zh, en)]

    kind = spec.kind
    if kind in ("string", "text", "date", "decimal", "enum"):
        if not isinstance(value, str):
            return bad("应为字符串", "must be a string")
        if kind in ("string", "text") and not value.strip():
            return bad("不能为空", "must not be blank")
        character = forbidden_character(value, multiline=kind == "text")
        if character is not None:
            return bad(f"含有不允许的控制字符（{character}）", f"holds a control character ({character})")
        if spec.max_length is not None and len(value) > spec.max_length:
            return bad(f"长度不能超过 {spec.max_length}", f"longer than {spec.max_length}")
        if spec.pattern and not re.match(spec.pattern, value):
            return bad("格式不正确", f"does not match {spec.pattern}")
        if kind == "date":
            try:
                date.fromisoformat(value)
            except ValueError:
                return bad("不是有效日期（YYYY-MM-DD）", "is not a valid date (YYYY-MM-DD)")
            if not re.match(DATE_PATTERN, value):
                return bad("日期格式应为 YYYY-MM-DD", "date must be YYYY-MM-DD")
        if kind == "decimal" and not re.match(DECIMAL_PATTERN, value):
            return bad("应为十进制数字字符串", "must be a decimal string")
        if kind == "enum" and value not in spec.enum:
            return bad(f"取值不在允许范围内，应为：{'、'.join(spec.names.values())}", f"must be one of {list(spec.enum)}")
        return []
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return bad("应为整数", "must be an integer")
        if spec.minimum is not None and value < spec.minimum:
            return bad(f"不能小于 {spec.minimum}", f"must be at least {spec.minimum}")
        return []
    if kind == "boolean":
        return [] if isinstance(value, bool) else bad("应为布尔值", "must be a boolean")
    if kind == "array":
        if not isinstance(value, list):
            return bad("应为数组", "must be an array")
        problems: list[Problem] = []
        for i, item in enumerate(value):
            problems += _problems_for_value(spec.items, item, f"{path}[{i}]")  # type: ignore[arg-type]
        return problems
    if kind == "object":
        if not isinstance(value, dict):
            return bad("应为对象", "must be an object")
        return problems_in(spec.fields, value, path)
    if kind == "fragment":
        return [] if isinstance(value, dict) else bad("应为对象", "must be an object")
    raise AssertionError(kind)


def problems_in(fields: tuple[Field, ...], payload: dict[str, Any], path: str = "payload") -> list[Problem]:
    """Everything wrong with ``payload`` against ``fields``: missing, unknown, mistyped members."""
    problems: list[Problem] = []
    known = {f.name for f in fields}
    for name in sorted(set(payload) - known):
        problems.append(Problem(f"{path}.{name}", "不是该事件的字段", "is not a field of this event"))
    for spec in fields:
        if spec.name not in payload or payload[spec.name] is None:
            if spec.required:
                problems.append(Problem(f"{path}.{spec.name}", "必填", "is required"))
            continue
        problems += _problems_for_value(spec, payload[spec.name], f"{path}.{spec.name}")
    return problems


# --- visibility -------------------------------------------------------------------------------


def _part_of_value(spec: Field, value: Any, public_only: bool) -> Any:
    if spec.kind == "object" and isinstance(value, dict):
        return declared_part(spec.fields, value, public_only=public_only)
    if spec.kind == "array" and spec.items is not None and isinstance(value, list):
        return [_part_of_value(spec.items, v, public_only) for v in value]
    if spec.kind in ("object", "array", "fragment"):
        return None  # not the shape declared: shown to nobody
    return value


def declared_part(fields: tuple[Field, ...], payload: dict[str, Any], *, public_only: bool) -> dict[str, Any]:
    """Only the members ``fields`` declare (recursively) — and of those, with ``public_only``, only
    the ones marked public; everything else is dropped (deny by default). A fragment's members are
    judged by the fields of the event type its sibling field names."""
    out: dict[str, Any] = {}
    for spec in fields:
        if spec.name not in payload or (public_only and not spec.public):
            continue
        value = payload[spec.name]
        if spec.kind == "fragment":
            named = CATALOGUE.types.get(payload.get(spec.fragment_of, "")) if isinstance(payload.get(spec.fragment_of), str) else None
            out[spec.name] = declared_part(named.fields, value, public_only=public_only) if named and isinstance(value, dict) else {}
        else:
            out[spec.name] = _part_of_value(spec, value, public_only)
    return out


def public_part(fields: tuple[Field, ...], payload: dict[str, Any]) -> dict[str, Any]:
    """Only the members declared public (recursively); everything else is dropped."""
    return declared_part(fields, payload, public_only=True)
