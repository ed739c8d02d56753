"""Binding (v1): assigning a pod to a node, kube-apiserver's `BindingREST` (`pkg/registry/core/pod/storage`).

A scheduler posts a Binding to `pods/<name>/binding` (or, the older way, to `bindings`); the pod then gets
`spec.nodeName`, the Binding's annotations and the condition `PodScheduled=True`. A Binding is never stored. It is
the only way a pod's node is set after creation: the pod's own update rules forbid changing `spec.nodeName`, so the
assignment is written past them, as kube-apiserver writes it straight to storage. Pure: no I/O.

What is refused, and how:
* a body that is not a Binding, or names another pod than the URL: 400, as kube-apiserver's decoder refuses it;
* a Binding without a node, or with a target that is not a Node: 422 (kube-apiserver answers 500 here, its
  validation error escaping as an internal error; the 422 says the same, in the words of field validation);
* a pod that is not the one the Binding's uid or resourceVersion names: 409 Conflict on `pods` (the storage's
  precondition failed); a pod already assigned, being deleted or still gated: 409 Conflict on `pods/binding`, each
  worded as kube-apiserver words it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from controlplane import errors
from controlplane.registry import field as f
from controlplane.registry.values import as_dict, as_list, as_str

_CONFLICT_RESOURCE = "pods/binding"


@dataclass(frozen=True)
class Binding:
    """What a Binding asks: put pod `name` on `node`; `uid` and `resource_version` pin the pod meant, when set."""

    name: str
    node: str
    annotations: dict[str, str] = field(default_factory=dict)
    uid: str = ""
    resource_version: str = ""


def binding_from(body: Any, *, namespace: str, url_name: str = "") -> Binding:
    """The Binding in a request body, sent to `pods/<url_name>/binding` (or to `bindings`, url_name empty)."""
    if not isinstance(body, dict):
        raise errors.bad_request(f"not a Binding object: the request body is a {type(body).__name__}")
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if api_version and api_version != "v1":
        raise errors.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API version (v1)"
        )
    if kind and kind != "Binding":
        raise errors.bad_request(f"not a Binding object: the request body is a {kind}")
    meta = as_dict(body.get("metadata"))
    name = as_str(meta.get("name"))
    if url_name and name != url_name:
        raise errors.bad_request("name in URL does not match name in Binding object")
    if not name:
        raise errors.bad_request("Name parameter required.")
    if as_str(meta.get("namespace")) not in ("", namespace):
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    target = as_dict(body.get("target"))
    causes: list[errors.Cause] = []
    target_kind = as_str(target.get("kind"))
    if target_kind not in ("", "Node"):
        causes.append(f.not_supported("target.kind", target_kind, ["Node", "<empty>"]))
    if not as_str(target.get("name")):
        causes.append(f.required("target.name"))
    if causes:
        raise errors.invalid("Binding", name, "", causes)
    annotations = {k: v for k, v in as_dict(meta.get("annotations")).items() if isinstance(v, str)}
    return Binding(name, as_str(target.get("name")), annotations, as_str(meta.get("uid")),
                   as_str(meta.get("resourceVersion")))


def assign(pod: dict[str, Any], binding: Binding, *, now: str) -> dict[str, Any]:
    """`pod` assigned to the Binding's node (the mutation of a guaranteed update); refused with 409 when it
    cannot be."""
    meta = pod["metadata"]
    name = meta["name"]
    spec = pod.setdefault("spec", {})

    def refuse(why: str) -> errors.StatusError:
        return errors.conflict(_CONFLICT_RESOURCE, name, "", why)

    # The Binding's uid and resourceVersion are preconditions on the pod, checked by the storage before anything.
    if binding.uid and binding.uid != meta.get("uid"):
        raise errors.conflict("pods", name, "", f"Precondition failed: UID in precondition: {binding.uid}, UID in "
                                                f"object meta: {meta.get('uid')}")
    if binding.resource_version and binding.resource_version != meta.get("resourceVersion"):
        raise errors.conflict("pods", name, "", "Precondition failed: ResourceVersion in precondition: "
                                                f"{binding.resource_version}, ResourceVersion in object meta: "
                                                f"{meta.get('resourceVersion')}")
    if meta.get("deletionTimestamp"):
        raise refuse(f"pod {name} is being deleted, cannot be assigned to a host")
    if spec.get("nodeName"):
        raise refuse(f'pod {name} is already assigned to node "{spec["nodeName"]}"')
    if as_list(spec.get("schedulingGates")):
        raise refuse(f"pod {name} has non-empty .spec.schedulingGates")
    spec["nodeName"] = binding.node
    if binding.annotations:
        meta["annotations"] = {**as_dict(meta.get("annotations")), **binding.annotations}
    status = pod.setdefault("status", {})
    status["conditions"] = scheduled_condition(as_list(status.get("conditions")), "True", now=now)
    return pod


def scheduled_condition(conditions: list[Any], status: str, *, now: str, reason: str = "",
                        message: str = "") -> list[Any]:
    """`conditions` with PodScheduled set as `podutil.UpdatePodCondition` sets it: the transition time moves
    only when the status changes; reason and message are replaced (dropped when empty)."""
    condition: dict[str, Any] = {"type": "PodScheduled", "status": status, "lastProbeTime": None,
                                 "lastTransitionTime": now}
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    for i, existing in enumerate(conditions):
        if isinstance(existing, dict) and existing.get("type") == "PodScheduled":
            if existing.get("status") == status and "lastTransitionTime" in existing:
                condition["lastTransitionTime"] = existing["lastTransitionTime"]
            return [*conditions[:i], condition, *conditions[i + 1:]]
    return [*conditions, condition]
