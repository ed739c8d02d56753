"""Namespace (v1): `pkg/registry/core/namespace/strategy.go`, its defaulter and validation.

A namespace's name is a DNS label (it becomes part of DNS names). Every namespace carries the label
`kubernetes.io/metadata.name` set to its own name, re-applied on every write so it cannot be removed or changed.
It is born `Active` with the `kubernetes` finalizer (which the namespace controller removes once the contents
are gone); `spec.finalizers` can then only be changed through the finalize subresource, so ordinary updates keep
the stored list. The status subresource enforces the phase rule: `Active` unless the namespace is being
deleted, then `Terminating`.
"""

from __future__ import annotations

from typing import Any

from controlplane.errors import Cause
from controlplane.registry import field as f
from controlplane.registry.base import Object, StatusStrategy, Strategy, keep_old, metadata
from controlplane.registry.formats import is_qualified_name, name_is_dns_label
from controlplane.registry.meta import STANDARD_FINALIZERS
from controlplane.registry.values import as_dict, as_list, as_str, child_dict

NAME_LABEL = "kubernetes.io/metadata.name"


class NamespaceStrategy(Strategy):
    kind = "Namespace"
    namespaced = False
    has_status = True
    name_validator = staticmethod(name_is_dns_label)

    def default(self, obj: Object) -> None:
        meta = metadata(obj)
        name = as_str(meta.get("name"))
        if name:
            child_dict(meta, "labels")[NAME_LABEL] = name
        status = obj.get("status")
        if isinstance(status, dict) and not status.get("phase"):
            status["phase"] = "Active"

    def initial_status(self, obj: Object) -> dict[str, Any]:
        return {"phase": "Active"}

    def prepare_for_create(self, obj: Object) -> None:
        super().prepare_for_create(obj)
        spec = child_dict(obj, "spec")
        finalizers = list(as_list(spec.get("finalizers")))
        if "kubernetes" not in finalizers:
            finalizers.append("kubernetes")
        spec["finalizers"] = finalizers

    def prepare_for_update(self, obj: Object, old: Object) -> None:
        super().prepare_for_update(obj, old)
        spec, old_spec = child_dict(obj, "spec"), as_dict(old.get("spec"))
        keep_old(spec, old_spec, "finalizers")

    def validate_object(self, obj: Object) -> list[Cause]:
        causes: list[Cause] = []
        for name in as_list(as_dict(obj.get("spec")).get("finalizers")):
            name = as_str(name)
            causes.extend(f.invalid("spec.finalizers", name, msg) for msg in is_qualified_name(name))
            if "/" not in name and name not in STANDARD_FINALIZERS:
                causes.append(
                    f.invalid(
                        "spec.finalizers", name, "name is neither a standard finalizer name nor is it fully qualified"
                    )
                )
        return causes


class NamespaceStatusStrategy(StatusStrategy):
    def validate_status(self, obj: Object, old: Object) -> list[Cause]:
        phase = as_str(as_dict(obj.get("status")).get("phase"))
        if not as_dict(obj.get("metadata")).get("deletionTimestamp"):
            if phase != "Active":
                return [f.invalid("status.Phase", phase, "may only be 'Active' if `deletionTimestamp` is empty")]
        elif phase != "Terminating":
            return [f.invalid("status.Phase", phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")]
        return []
