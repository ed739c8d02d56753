"""JSON merge patch (RFC 7386, `application/merge-patch+json`).

The patch is a partial object: `null` removes a key, an object merges into the object at the same key (or into an
empty one if there is none there, which also drops the nulls inside it), and any other value, arrays included,
replaces what was there. It is the only merge-style patch custom resources accept, and the one `kubectl scale`,
`kubectl patch --type merge` and most controllers send. The body must be a JSON object: kube-apiserver decodes it
into a map and answers 400 when it is not one.
"""

from __future__ import annotations

import copy
from typing import Any

from controlplane.errors import bad_request
from controlplane.patch.failures import json_kind


def apply_merge_patch(obj: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Apply a decoded merge patch body to `obj` and return the patched copy."""
    if not isinstance(patch, dict):
        raise bad_request(f"json: cannot unmarshal {json_kind(patch)} into Go value of type map[string]interface {{}}")
    return _merge(copy.deepcopy(obj), patch)


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            target[key] = _merge(current if isinstance(current, dict) else {}, value)
        else:
            target[key] = copy.deepcopy(value)
    return target
