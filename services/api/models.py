"""Request and response models. Payload models are generated from the event catalogue, so the
OpenAPI document, the validation and the published JSON Schemas cannot disagree."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, create_model
from pydantic_core import PydanticCustomError

from events.catalogue import DATE_PATTERN, DECIMAL_PATTERN, EventType, forbidden_character
from events.catalogue import Field as CatalogueField

FORBID = ConfigDict(extra="forbid")


def _plain(multiline: bool):
    """A text check at the door, the same as the catalogue's (events/catalogue.forbidden_character)."""
    def check(value: str) -> str:
        character = forbidden_character(value, multiline=multiline)
        if character is not None:
            raise PydanticCustomError("control_character", "holds a control character ({character})", {"character": character})
        return value
    return AfterValidator(check)


Line = Annotated[str, _plain(multiline=False)]  # one line: names, numbers, codes
Text = Annotated[str, _plain(multiline=True)]  # free text: descriptions, summaries


def _python_type(spec: CatalogueField, owner: str) -> Any:
    kind = spec.kind
    if kind == "text":
        return Text
    if kind in ("string", "date", "decimal"):
        return Line
    if kind == "enum":
        return Literal[spec.enum]  # type: ignore[valid-type]
    if kind == "integer":
        return StrictInt
    if kind == "boolean":
        return StrictBool
    if kind == "array":
        return list[_python_type(spec.items, owner)]  # type: ignore[arg-type,misc]
    if kind == "object":
        return model_from_fields(f"{owner}_{spec.name}", spec.fields)
    if kind == "fragment":
        return dict[str, Any]
    raise AssertionError(kind)


def _constraints(spec: CatalogueField) -> dict[str, Any]:
    c: dict[str, Any] = {"title": spec.title_zh}
    if spec.kind in ("string", "text"):
        c["min_length"] = 1
    if spec.max_length is not None:
        c["max_length"] = spec.max_length
    if spec.minimum is not None:
        c["ge"] = spec.minimum
    pattern = spec.pattern or {"date": DATE_PATTERN, "decimal": DECIMAL_PATTERN}.get(spec.kind)
    if pattern:
        c["pattern"] = pattern
    if not spec.public:
        c["description"] = "不公开字段（restricted）"
    return c


def model_from_fields(
    name: str, fields: tuple[CatalogueField, ...], *, exclude: tuple[str, ...] = (), optional: tuple[str, ...] = (),
    extra: dict[str, Any] | None = None,
) -> type[BaseModel]:
    definitions: dict[str, Any] = dict(extra or {})
    for spec in fields:
        if spec.name in exclude:
            continue
        python_type = _python_type(spec, name)
        if spec.required and spec.name not in optional:
            definitions[spec.name] = (python_type, Field(..., **_constraints(spec)))
        else:
            definitions[spec.name] = (python_type | None, Field(None, **_constraints(spec)))
    return create_model(name, __config__=FORBID, **definitions)


class BasisModel(BaseModel):
    model_config = FORBID
    document_no: Line = Field(..., min_length=1, max_length=100, title="文书编号", examples=["润民养备〔2024〕12号"])
    legal_basis: Text = Field(..., min_length=1, max_length=500, title="法律依据", examples=["《养老机构管理办法》第九条"])


def command_model(
    name: str, event_type: EventType, computed: tuple[str, ...], example: dict[str, Any] | None,
    defaults: tuple[str, ...] = (),
) -> type[BaseModel]:
    """A command body: the event's payload fields as the department supplies them (those the rule
    table can default are optional), plus ``basis``."""
    model = model_from_fields(
        name, event_type.fields, exclude=computed, optional=defaults,
        extra={"basis": (BasisModel, Field(..., title="决定依据"))},
    )
    if example is not None:
        model.model_config["json_schema_extra"] = {"examples": [example]}
        model.model_rebuild(force=True)
    return model


def payload_of(body: BaseModel) -> dict[str, Any]:
    return body.model_dump(exclude={"basis"}, exclude_none=True)


class CommandResponse(BaseModel):
    aggregate_id: str = Field(..., title="对象编号")
    aggregate_type: str = Field(..., title="对象类型")
    institution_id: str | None = Field(None, title="机构编号")
    aggregate_version: int = Field(..., title="对象记录版本")
    status: str | None = Field(None, title="状态")
    replayed: bool = Field(..., title="是否为重复请求的原结果")
    seq: int | None = Field(None, title="台账序号（已封存时）")
    dry_run: bool = Field(False, title="仅检查、未记录")


class InstitutionResponse(BaseModel):
    id: str = Field(..., title="机构编号")
    status: str = Field(..., title="登记状态")
    status_name: str = Field(..., title="登记状态名称")
    aggregate_version: int = Field(..., title="记录版本")
    profile: dict[str, Any] = Field(..., title="登记信息（仅含调用者可见的字段）")


class RecordResponse(BaseModel):
    """A record as the visibility gate shows it to the caller."""

    id: str = Field(..., title="记录编号")
    kind: str = Field(..., title="记录类别")
    kind_name: str = Field(..., title="记录类别名称")
    institution_id: str | None = Field(None, title="机构编号")
    region_code: str | None = Field(None, title="行政区划")
    version: int = Field(..., title="记录版本")
    seq: int | None = Field(None, title="台账序号（最近改变它的事件）")
    status: str = Field(..., title="状态")
    status_name: str = Field(..., title="状态名称")
    state: dict[str, Any] = Field(..., title="当前状态（仅含调用者可见的字段）")
    decisions: list[dict[str, Any]] = Field(..., title="仍有效的各项决定（按时间顺序，已更正的为更正后内容）")
    amendments: list[dict[str, Any]] = Field(..., title="更正与撤销")
    retracted: list[dict[str, Any]] = Field(..., title="已撤销的决定")


class ErrorBody(BaseModel):
    code: str
    message_zh: str
    message_en: str
    details: dict[str, Any] = {}


class ErrorResponse(BaseModel):
    error: ErrorBody


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "未认证：缺少、无效或过期的令牌"},
    403: {"model": ErrorResponse, "description": "无权：部门、层级、辖区或角色不符"},
    404: {"model": ErrorResponse, "description": "未找到对象"},
    409: {"model": ErrorResponse, "description": "冲突：重复登记、状态不允许、幂等键被其他请求使用"},
    422: {"model": ErrorResponse, "description": "不符合规定或请求格式错误（含稳定的错误代码）"},
}
