"""The strategy of Canopy's own types (`api.types`): their pydantic models are the defaults and the validation.

Defaults are the models' field defaults, written into the stored object so that readers see them, as Kubernetes
defaulting does. Validation is the models' own, in strict mode (a string is not an integer, as in Go's decoder);
each pydantic error becomes one cause with the field path (`spec.replicas`) and Kubernetes' wording.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from api.types import Model, OwnType
from controlplane.errors import Cause
from controlplane.registry.base import GenericStatusStrategy, GenericStrategy, Object
from controlplane.registry.formats import name_is_dns_label


def _path(prefix: str, loc: tuple[Any, ...]) -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _cause(prefix: str, error: dict[str, Any]) -> Cause:
    field = _path(prefix, tuple(error["loc"]))
    kind = error["type"]
    if kind == "missing":
        return Cause(field, "Required value", "FieldValueRequired")
    if kind == "extra_forbidden":
        return Cause(field, "Forbidden: field is not declared in the schema", "FieldValueForbidden")
    value = json.dumps(error.get("input"), default=str)
    if kind in ("literal_error", "enum"):
        expected = error.get("ctx", {}).get("expected", "")
        return Cause(field, f"Unsupported value: {value}: supported values: {expected}", "FieldValueNotSupported")
    message = error["msg"][:1].lower() + error["msg"][1:]
    return Cause(field, f"Invalid value: {value}: {message}", "FieldValueInvalid")


def validate_part(obj: Object, field: str, model: type[Model] | None) -> list[Cause]:
    if model is None or field not in obj:
        return []
    try:
        model.model_validate(obj[field], strict=True)
    except ValidationError as exc:
        return [_cause(field, error) for error in exc.errors()]
    return []


def default_part(obj: Object, field: str, model: type[Model] | None) -> None:
    if model is None:
        return
    if field == "spec":
        obj.setdefault("spec", {})
    if not isinstance(obj.get(field), dict):
        return
    try:
        parsed = model.model_validate(obj[field], strict=True)
    except ValidationError:
        return  # left as sent: validation reports what is wrong
    obj[field] = parsed.model_dump(mode="json", by_alias=True, exclude_none=True)


class OwnTypeStrategy(GenericStrategy):
    def __init__(self, own: OwnType) -> None:
        rt = own.resource
        super().__init__(rt.group, rt.kind, namespaced=rt.namespaced, has_status=own.status is not None)
        self.own = own
        if own.name_is_label:
            self.name_validator = name_is_dns_label

    def default(self, obj: Object) -> None:
        default_part(obj, "spec", self.own.spec)

    def validate_object(self, obj: Object) -> list[Cause]:
        return validate_part(obj, "spec", self.own.spec)


class OwnTypeStatusStrategy(GenericStatusStrategy):
    def __init__(self, own: OwnType) -> None:
        super().__init__(OwnTypeStrategy(own))
        self.own = own

    def validate_status(self, obj: Object, old: Object) -> list[Cause]:
        return validate_part(obj, "status", self.own.status)
