"""The /scale subresource: an `autoscaling/v1 Scale` view of a Deployment's or ReplicaSet's replicas.

`kubectl scale` and autoscalers read and write this view; writes change only `spec.replicas` of the object behind
it. Pure: no I/O.
"""

from __future__ import annotations

import copy
from typing import Any

from controlplane import errors
from controlplane.errors import Cause


def selector_string(selector: dict[str, Any] | None) -> str:
    """A metav1.LabelSelector in the query-string form Scale.status.selector uses (`app=nginx,tier in (a,b)`)."""
    if not selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), sorted(expr.get("values") or [])
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(sorted(parts))


def to_scale(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata", {})
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in meta},
        "spec": {"replicas": obj.get("spec", {}).get("replicas", 0)},
        "status": {
            "replicas": obj.get("status", {}).get("replicas", 0),
            "selector": selector_string(obj.get("spec", {}).get("selector")),
        },
    }


def from_scale(obj: dict[str, Any], scale: dict[str, Any]) -> dict[str, Any]:
    """`obj` with the replicas the Scale asks for."""
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise errors.invalid(
            "Scale", obj["metadata"]["name"], "autoscaling",
            [Cause("spec.replicas", f"Invalid value: {replicas!r}: must be greater than or equal to 0")],
        )
    updated = copy.deepcopy(obj)
    updated.setdefault("spec", {})["replicas"] = replicas
    return updated
