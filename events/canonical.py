"""Canonical JSON: the one byte encoding that every hash in the ledger is computed over.

Rules (also in docs/verification.md, so an auditor can re-implement them with the standard library):
- objects with keys sorted by code point, no insignificant whitespace, UTF-8, non-ASCII unescaped;
- only null, booleans, integers in the IEEE-754 safe range, strings, arrays and objects;
- floats are refused: amounts and areas travel as decimal strings, so no two encoders can disagree.

The output is byte-identical to
``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()``;
orjson is used only because it is faster (a property test holds the two together).
"""

from __future__ import annotations

from typing import Any

import orjson

SAFE_INTEGER = 2**53


class NotCanonical(ValueError):
    """A value that has no canonical encoding (a float, a huge integer, an unknown type)."""


def _check(value: Any, path: str) -> None:
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if -SAFE_INTEGER <= value <= SAFE_INTEGER:
            return
        raise NotCanonical(f"{path}: integer {value} outside the safe range")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonical(f"{path}: object key {key!r} is not a string")
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
        return
    raise NotCanonical(f"{path}: {type(value).__name__} has no canonical JSON form")


def canonical_json(value: Any) -> bytes:
    """Encode ``value`` canonically, refusing anything outside the canonical subset."""
    _scan(value)
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _scan(value: Any) -> None:
    """``_check`` in a loop over exact types: the common case (plain dicts, lists, strings, safe
    integers) without a call per node. Anything else — a float, a tuple, a subclass, a key that is
    not a string — hands the whole value to ``_check``, which accepts it or names the path."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            if not all(type(key) is str for key in item):
                return _check(value, "$")
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is int:
            if not -SAFE_INTEGER <= item <= SAFE_INTEGER:
                return _check(value, "$")
        elif kind not in _LEAVES:
            return _check(value, "$")
    return None


_LEAVES = frozenset({str, bool, type(None)})


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)
