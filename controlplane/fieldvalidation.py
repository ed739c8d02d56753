"""Server-side field validation: the unknown and duplicate fields of a request body.

kube-apiserver decodes typed objects strictly when asked to (`fieldValidation=Strict` or `Warn`, which kubectl
sends by default): a field its Go type does not declare, or a key that appears twice in the same JSON object,
becomes one error each, reported in the order the decoder meets them and worded like

    unknown field "spec.template.spec.containers[0].imagee"
    duplicate field "spec.replicas"

Strict joins them as `strict decoding error: <error>, <error>` in a 400 BadRequest; Warn sends each one as a
warning. The decoder does not look inside a field it does not know, so nothing under an unknown field is
reported; fields typed as free-form JSON (`x-kubernetes-preserve-unknown-fields`, RawExtension, FieldsV1) and map
keys are never unknown, but their duplicate keys are.

YAML bodies are converted to JSON before that decoding, and the conversion itself rejects a key repeated in a
mapping with go-yaml's own wording: `yaml: unmarshal errors:\\n  line 5: key "replicas" already set in map`.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from api.schema import Schema

_ROOT_FIELDS = frozenset({"apiVersion", "kind"})


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as decoded, key by key, duplicates included."""


def unknown_fields(obj: dict[str, Any], schema: Schema) -> list[str]:
    """The fields of a decoded body that `schema` does not declare, as strict decoding errors."""
    errors: list[str] = []
    _walk(obj, schema, "", errors)
    return errors


def duplicate_fields(raw_json: bytes | str) -> list[str]:
    """The keys repeated within one object of a JSON document, as strict decoding errors."""
    errors: list[str] = []
    _walk(_decode_pairs(raw_json), Schema("any"), "", errors)
    return errors


def strict_decoding_errors(raw_json: bytes | str, schema: Schema) -> list[str]:
    """Unknown and duplicate fields of a JSON body in the order kube-apiserver's decoder reports them."""
    errors: list[str] = []
    _walk(_decode_pairs(raw_json), schema, "", errors)
    return errors


def duplicate_yaml_keys(raw_yaml: bytes | str) -> list[str]:
    """go-yaml's error for keys repeated in a mapping of a YAML body (one message for all of them), or nothing.

    Raises `yaml.YAMLError` for a body that is not YAML at all.
    """
    loader = _DuplicateKeyLoader(raw_yaml)
    try:
        while loader.check_data():
            loader.get_data()
    finally:
        loader.dispose()
    if not loader.duplicates:
        return []
    lines = [f"  line {line + 1}: key {key} already set in map" for (line, _), key in sorted(loader.duplicates)]
    return ["yaml: unmarshal errors:\n" + "\n".join(lines)]


class _DuplicateKeyLoader(yaml.SafeLoader):
    """A safe loader that notes every scalar key a mapping repeats, as go-yaml words it."""

    def __init__(self, stream: bytes | str) -> None:
        super().__init__(stream)
        # (line, column) of each repeated key, and the key as go-yaml prints it.
        self.duplicates: list[tuple[tuple[int, int], str]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) or key is None:
                if key in seen:
                    mark = key_node.start_mark
                    self.duplicates.append(((mark.line, mark.column), _go_quote(key)))
                seen.add(key)
        return super().construct_mapping(node, deep)


def _decode_pairs(raw_json: bytes | str) -> Any:
    return json.loads(raw_json, object_pairs_hook=_Pairs)


def _go_quote(key: Any) -> str:
    """A map key the way go-yaml prints it with %#v: strings quoted, other scalars as they are."""
    if isinstance(key, str):
        return json.dumps(key)
    if key is None:
        return "<nil>"
    return str(key).lower() if isinstance(key, bool) else str(key)


def _walk(value: Any, schema: Schema | None, path: str, errors: list[str]) -> None:
    """Check `value` (a decoded document, objects as dicts or `_Pairs`) against `schema`, appending errors."""
    if isinstance(value, list) and not isinstance(value, _Pairs):
        items = schema.items if schema is not None and schema.kind == "array" else _free_form(schema)
        for index, item in enumerate(value):
            _walk(item, items, f"{path}[{index}]", errors)
        return
    if not isinstance(value, dict | _Pairs):
        return
    pairs = value if isinstance(value, _Pairs) else list(value.items())
    seen: set[str] = set()
    for key, child in pairs:
        child_path = f"{path}.{key}" if path else key
        known, child_schema = _field(schema, key, at_root=not path)
        if not known:
            _report(errors, f"unknown field {json.dumps(child_path)}")
            continue
        if key in seen:
            _report(errors, f"duplicate field {json.dumps(child_path)}")
        seen.add(key)
        _walk(child, child_schema, child_path, errors)


def _field(schema: Schema | None, key: str, at_root: bool) -> tuple[bool, Schema | None]:
    """Whether an object described by `schema` may hold `key`, and the schema of its value."""
    if schema is None:
        return True, None
    if schema.kind == "map":
        return True, schema.values
    if schema.kind != "object":
        return True, _free_form(schema)
    child = schema.child(key)
    if child is not None:
        return True, child
    return (at_root and key in _ROOT_FIELDS) or schema.preserve_unknown, _free_form(schema)


def _free_form(schema: Schema | None) -> Schema | None:
    """What lies under a value whose schema declares no fields: free-form content stays free-form."""
    return schema if schema is not None and schema.kind == "any" else None


def _report(errors: list[str], message: str) -> None:
    # The decoder reports each distinct message once.
    if message not in errors:
        errors.append(message)


def prune_unknown(obj: dict[str, Any], schema: Schema) -> None:
    """Drop, in place, every field `schema` does not declare: what a typed decode keeps is what gets stored."""
    _prune(obj, schema, at_root=True)


def _prune(value: Any, schema: Schema | None, *, at_root: bool = False) -> None:
    if isinstance(value, list):
        items = schema.items if schema is not None and schema.kind == "array" else _free_form(schema)
        for item in value:
            _prune(item, items)
        return
    if not isinstance(value, dict):
        return
    for key in list(value):
        known, child_schema = _field(schema, key, at_root=at_root)
        if known:
            _prune(value[key], child_schema)
        else:
            del value[key]
