"""JSON patch (RFC 6902, `application/json-patch+json`).

The operations themselves are the `jsonpatch` library's; what this module adds is kube-apiserver's contract
around them. The body must be an array of operation objects (otherwise 400, as the Go decoder refuses it), at most
10,000 operations are accepted (413), and an operation that cannot be applied fails the whole patch with a 422
whose cause names the operation in the words of the Go json-patch library. Operations are applied one at a time
so that the failing one is known; the caller's object is never modified.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonpatch
import jsonpointer

from controlplane.errors import Cause, bad_request, invalid, too_large
from controlplane.patch.failures import json_kind, unprocessable

MAX_JSON_PATCH_OPERATIONS = 10000

_MISSING = object()


def apply_json_patch(obj: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Apply a decoded JSON patch body to `obj` and return the patched copy."""
    operations = _operations(patch)
    document: Any = copy.deepcopy(obj)
    for operation in operations:
        document = _apply_operation(document, operation)
    if not isinstance(document, dict):
        encoded = json.dumps(document, separators=(",", ":"))
        raise invalid(
            "",
            "",
            "",
            [
                Cause(
                    "patch",
                    f'Invalid value: "{encoded}": json: cannot unmarshal {json_kind(document)} '
                    "into Go value of type map[string]interface {}",
                )
            ],
        )
    return document


def _operations(patch: Any) -> list[dict[str, Any]]:
    if patch is None:
        return []
    if not isinstance(patch, list):
        raise bad_request(f"json: cannot unmarshal {json_kind(patch)} into Go value of type jsonpatch.Patch")
    for operation in patch:
        if not isinstance(operation, dict):
            raise bad_request(
                f"json: cannot unmarshal {json_kind(operation)} into Go value of type jsonpatch.Operation"
            )
    if len(patch) > MAX_JSON_PATCH_OPERATIONS:
        raise too_large(
            f"The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {len(patch)}"
        )
    return patch


def _apply_operation(document: Any, operation: dict[str, Any]) -> Any:
    try:
        return jsonpatch.JsonPatch([operation]).apply(document, in_place=True)
    except jsonpatch.InvalidJsonPatch as exc:
        raise unprocessable(str(exc)) from exc
    except jsonpatch.JsonPatchTestFailed as exc:
        raise unprocessable(f"testing value {operation.get('path')} failed: test failed") from exc
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise unprocessable(_not_applicable(document, operation)) from exc


def _not_applicable(document: Any, operation: dict[str, Any]) -> str:
    """Name the path an operation could not use, as "<op> operation does not apply: ..."."""
    op = operation.get("op")
    source = operation.get("from")
    if op in ("move", "copy") and isinstance(source, str) and _absent(document, source):
        return f'{op} operation does not apply: doc is missing from path: "{source}": missing value'
    return f'{op} operation does not apply: doc is missing path: "{operation.get("path")}": missing value'


def _absent(document: Any, pointer: str) -> bool:
    try:
        return jsonpointer.resolve_pointer(document, pointer, _MISSING) is _MISSING
    except jsonpointer.JsonPointerException:
        return True
