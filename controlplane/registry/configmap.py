"""ConfigMap (v1) and the pieces Secrets share with it: config keys, the 1 MiB cap, and `immutable: true`.

A ConfigMap has no spec, no status and no generation; its payload is `data` (strings) and `binaryData`
(base64). Keys must be usable as file names in a volume (`[-._a-zA-Z0-9]+`, not `.` or `..`). Once a ConfigMap
is marked immutable, its payload and the mark itself are frozen. `binaryData` that is not valid base64 never
gets as far as validation: kube-apiserver fails to decode the body, with Go's base64 error and byte offset.
"""

from __future__ import annotations

import base64
from typing import Any

from controlplane.errors import Cause
from controlplane.registry import field as f
from controlplane.registry.base import Object, Strategy
from controlplane.registry.formats import is_config_map_key
from controlplane.registry.values import as_dict, as_str

MAX_PAYLOAD_SIZE = 1024 * 1024
IMMUTABLE_WHEN_SET = "field is immutable when `immutable` is set"
_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_NEWLINES = (0x0A, 0x0D)


class Base64Error(ValueError):
    """Go's `base64.CorruptInputError`; `str(err)` is its message."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"illegal base64 data at input byte {offset}")


def _corrupt_offset(data: bytes) -> int | None:
    """Where Go's `base64.StdEncoding` stops on this input, or None if it decodes. Go skips CR and LF anywhere
    and insists on correct padding."""
    si, n = 0, len(data)
    while True:
        j = 0
        while j < 4:
            if si == n:
                return None if j == 0 else si - j
            ch = data[si]
            si += 1
            if ch in _B64_ALPHABET:
                j += 1
                continue
            if ch in _NEWLINES:
                continue
            if ch != ord("=") or j in (0, 1):
                return si - 1
            if j == 2:
                while si < n and data[si] in _NEWLINES:
                    si += 1
                if si == n:
                    return n
                if data[si] != ord("="):
                    return si - 1
                si += 1
            while si < n and data[si] in _NEWLINES:
                si += 1
            return si if si < n else None


def decode_base64(text: str) -> bytes:
    """Decode as Go's `encoding/json` decodes a `[]byte` field, raising `Base64Error` where Go would."""
    raw = text.encode()
    offset = _corrupt_offset(raw)
    if offset is not None:
        raise Base64Error(offset)
    return base64.b64decode(bytes(b for b in raw if b not in _NEWLINES))


def byte_map_problem(values: Any, kind: str, member: str) -> str | None:
    """The decoder's complaint about a `map[string][]byte` member, if any."""
    for value in as_dict(values).values():
        if value is None:
            continue
        if not isinstance(value, str):
            return f"json: cannot unmarshal {_json_type(value)} into Go struct field {kind}.{member} of type []uint8"
        try:
            decode_base64(value)
        except Base64Error as err:
            return str(err)
    return None


def string_map_problem(values: Any, kind: str, member: str) -> str | None:
    for value in as_dict(values).values():
        if value is not None and not isinstance(value, str):
            return f"json: cannot unmarshal {_json_type(value)} into Go struct field {kind}.{member} of type string"
    return None


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object"


def decoded_size(values: Any) -> int:
    total = 0
    for value in as_dict(values).values():
        try:
            total += len(decode_base64(as_str(value)))
        except Base64Error:
            continue
    return total


def validate_keys(values: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for key in sorted(as_dict(values)):
        causes.extend(f.invalid(f.key(path, key), key, msg) for msg in is_config_map_key(key))
    return causes


def immutable_changes(obj: Object, old: Object, members: tuple[str, ...]) -> list[Cause]:
    if old.get("immutable") is not True:
        return []
    causes = []
    if obj.get("immutable") is not True:
        causes.append(f.forbidden("immutable", IMMUTABLE_WHEN_SET))
    for member in members:
        if as_dict(obj.get(member)) != as_dict(old.get(member)):
            causes.append(f.forbidden(member, IMMUTABLE_WHEN_SET))
    return causes


class ConfigMapStrategy(Strategy):
    kind = "ConfigMap"

    def validate_object(self, obj: Object) -> list[Cause]:
        data, binary = as_dict(obj.get("data")), as_dict(obj.get("binaryData"))
        causes = []
        for key in sorted(data):
            causes.extend(f.invalid(f.key("data", key), key, msg) for msg in is_config_map_key(key))
            if key in binary:
                causes.append(f.invalid(f.key("data", key), key, "duplicate of key present in binaryData"))
        causes.extend(validate_keys(binary, "binaryData"))
        size = sum(len(as_str(v).encode()) for v in data.values()) + decoded_size(binary)
        if size > MAX_PAYLOAD_SIZE:
            causes.append(f.too_long("", MAX_PAYLOAD_SIZE))
        return causes

    def validate_object_update(self, obj: Object, old: Object) -> list[Cause]:
        return immutable_changes(obj, old, ("data", "binaryData"))

    def decode_problem(self, obj: Object) -> str | None:
        return string_map_problem(obj.get("data"), "ConfigMap", "data") or byte_map_problem(
            obj.get("binaryData"), "ConfigMap", "binaryData"
        )
