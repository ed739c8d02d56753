"""Secret (v1): `SetDefaults_Secret`, the `stringData` conversion and `ValidateSecret`.

`stringData` is a write-only convenience: kube-apiserver folds it into `data` (base64-encoded, overriding keys
already in `data`) while converting the request, so it is never stored or returned. The payload cap (1 MiB)
counts decoded bytes. The well-known types each require their keys (`tls.crt`/`tls.key` for
`kubernetes.io/tls`, and so on), and a Secret's type can never change.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from controlplane.errors import Cause
from controlplane.registry import field as f
from controlplane.registry.base import Object, Strategy
from controlplane.registry.configmap import (
    IMMUTABLE_WHEN_SET,
    MAX_PAYLOAD_SIZE,
    Base64Error,
    byte_map_problem,
    decode_base64,
    decoded_size,
    string_map_problem,
    validate_keys,
)
from controlplane.registry.meta import FIELD_IMMUTABLE
from controlplane.registry.values import as_dict, as_str

REDACTED = "<secret contents redacted>"


def _json_problem(raw: bytes) -> str | None:
    """Roughly what Go's `json.Unmarshal` into a map says about a docker config that is not a JSON object."""
    text = raw.decode(errors="replace").strip()
    if not text:
        return "unexpected end of JSON input"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        if err.pos >= len(text):
            return "unexpected end of JSON input"
        return f"invalid character {text[err.pos]!r} looking for beginning of value"
    if not isinstance(value, dict):
        kind = "array" if isinstance(value, list) else "string" if isinstance(value, str) else "number"
        return f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
    return None


class SecretStrategy(Strategy):
    kind = "Secret"

    def default(self, obj: Object) -> None:
        if not obj.get("type"):
            obj["type"] = "Opaque"
        string_data = obj.pop("stringData", None)
        if isinstance(string_data, dict) and string_data:
            data = obj.get("data")
            if not isinstance(data, dict):
                data = {}
                obj["data"] = data
            for key, value in string_data.items():
                data[key] = base64.b64encode(as_str(value).encode()).decode()

    def validate_object(self, obj: Object) -> list[Cause]:
        data = as_dict(obj.get("data"))
        causes = validate_keys(data, "data")
        if decoded_size(data) > MAX_PAYLOAD_SIZE:
            causes.append(f.too_long("data", MAX_PAYLOAD_SIZE))
        kind = as_str(obj.get("type"))
        if kind == "kubernetes.io/service-account-token":
            annotations = as_dict(as_dict(obj.get("metadata")).get("annotations"))
            if not as_str(annotations.get("kubernetes.io/service-account.name")):
                causes.append(f.required("metadata.annotations[kubernetes.io/service-account.name]"))
        elif kind in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
            key = ".dockercfg" if kind == "kubernetes.io/dockercfg" else ".dockerconfigjson"
            if key not in data:
                causes.append(f.required(f.key("data", key)))
            else:
                problem = _json_problem(self._bytes(data[key]))
                if problem:
                    causes.append(f.invalid(f.key("data", key), REDACTED, problem))
        elif kind == "kubernetes.io/basic-auth":
            if "username" not in data and "password" not in data:
                causes.append(f.required("data[username]"))
                causes.append(f.required("data[password]"))
        elif kind == "kubernetes.io/ssh-auth":
            if not self._bytes(data.get("ssh-privatekey")):
                causes.append(f.required("data[ssh-privatekey]"))
        elif kind == "kubernetes.io/tls":
            causes.extend(f.required(f.key("data", key)) for key in ("tls.crt", "tls.key") if key not in data)
        return causes

    @staticmethod
    def _bytes(value: Any) -> bytes:
        try:
            return decode_base64(as_str(value))
        except Base64Error:
            return b""

    def validate_object_update(self, obj: Object, old: Object) -> list[Cause]:
        causes = []
        if obj.get("type") != old.get("type"):
            causes.append(f.invalid("type", as_str(obj.get("type")), FIELD_IMMUTABLE))
        if old.get("immutable") is True:
            new_data = {k: self._bytes(v) for k, v in as_dict(obj.get("data")).items()}
            old_data = {k: self._bytes(v) for k, v in as_dict(old.get("data")).items()}
            if obj.get("immutable") is not True:
                causes.append(f.forbidden("immutable", IMMUTABLE_WHEN_SET))
            if new_data != old_data:
                causes.append(f.forbidden("data", IMMUTABLE_WHEN_SET))
        return causes

    def decode_problem(self, obj: Object) -> str | None:
        return byte_map_problem(obj.get("data"), "Secret", "data") or string_map_problem(
            obj.get("stringData"), "Secret", "stringData"
        )
