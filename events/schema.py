"""JSON Schemas (draft 2020-12) generated from the catalogue; ``x-public`` marks public fields.

The generated files live in ``events/schemas/`` so other departments' systems can take them without
running our code; a test fails when they drift from the catalogue (``eldercare schemas`` rewrites).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from events.canonical import canonical_json
from events.catalogue import CATALOGUE, DATE_PATTERN, DECIMAL_PATTERN, EventType, Field
from events.visibility import ENVELOPE_MEMBERS

SCHEMA_DIR = Path(__file__).parent / "schemas"
BASE_URI = "https://eldercare-ledger.example.gov.cn/schemas/"


def field_schema(spec: Field) -> dict[str, Any]:
    schema: dict[str, Any] = {"title": spec.title_zh, "x-public": spec.public}
    kind = spec.kind
    if kind in ("string", "text"):
        schema["type"] = "string"
        schema["minLength"] = 1
    elif kind == "date":
        schema.update(type="string", format="date", pattern=DATE_PATTERN)
    elif kind == "decimal":
        schema.update(type="string", pattern=DECIMAL_PATTERN)
    elif kind == "enum":
        schema.update(type="string", enum=list(spec.enum))
    elif kind == "integer":
        schema["type"] = "integer"
    elif kind == "boolean":
        schema["type"] = "boolean"
    elif kind == "array":
        schema.update(type="array", items=field_schema(spec.items))  # type: ignore[arg-type]
    elif kind == "object":
        schema.update(object_schema(spec.fields))
    elif kind == "fragment":
        schema.update(type="object", description=f"members are fields of the event type named by '{spec.fragment_of}'")
    if spec.pattern and "pattern" not in schema:
        schema["pattern"] = spec.pattern
    if spec.max_length is not None:
        schema["maxLength"] = spec.max_length
    if spec.minimum is not None:
        schema["minimum"] = spec.minimum
    return schema


def object_schema(fields: tuple[Field, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [f.name for f in fields if f.required],
        "properties": {f.name: field_schema(f) for f in fields},
    }


def event_schema(event_type: EventType) -> dict[str, Any]:
    # The payload member is a fragment whose fields the event type declares: described last, as its own object.
    envelope = object_schema(tuple(f for f in ENVELOPE_MEMBERS if f.name != "payload"))
    envelope["properties"]["event_type"]["const"] = event_type.name
    envelope["properties"]["schema_version"]["const"] = event_type.version
    envelope["properties"]["payload"] = {"title": "事件内容", "x-public": True, **object_schema(event_type.fields)}
    envelope["required"].append("payload")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE_URI}{event_type.name}.v{event_type.version}.json",
        "title": event_type.title_zh,
        "description": event_type.description,
        **envelope,
    }


def rendered_schemas() -> dict[str, bytes]:
    """File name → canonical JSON bytes, for every event type in the catalogue."""
    return {
        f"{t.name}.v{t.version}.json": canonical_json(event_schema(t)) + b"\n" for t in CATALOGUE
    }


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in rendered_schemas().items():
        path = directory / name
        path.write_bytes(content)
        written.append(path)
    return written
