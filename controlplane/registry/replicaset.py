"""ReplicaSet (apps/v1): `pkg/registry/apps/replicaset/strategy.go` and its validation.

Also home of the rules every ReplicaSet-like controller shares (a Deployment's spec embeds the same selector and
template contract): the selector is required, non-empty and immutable, and must select the template's own
labels; the template must be a valid pod template whose restart policy is `Always`. A missing selector is
reported twice, as kube-apiserver does: as required, and as not matching the template (a nil selector selects
nothing).
"""

from __future__ import annotations

from typing import Any

from controlplane.errors import Cause
from controlplane.registry import field as f
from controlplane.registry.base import Object, StatusStrategy, Strategy
from controlplane.registry.meta import (
    FIELD_IMMUTABLE,
    selector_is_convertible,
    selector_is_empty,
    selector_matches,
    validate_label_selector,
    validate_nonnegative,
)
from controlplane.registry.pod_defaults import default_pod_template
from controlplane.registry.pod_validation import quantity_problem, validate_pod_template_spec
from controlplane.registry.values import as_dict, as_int, child_dict, semantic_equal

GREATER_THAN_REPLICAS = "cannot be greater than status.replicas"


def validate_selector(spec: dict[str, Any], path: str) -> list[Cause]:
    selector = spec.get("selector")
    spath = f.child(path, "selector")
    if selector is None:
        return [f.required(spath)]
    causes = validate_label_selector(selector, spath)
    if selector_is_empty(selector):
        causes.append(
            f.invalid(spath, f.go_label_selector(as_dict(selector)), "empty selector is invalid for deployment")
        )
    return causes


def validate_template_for_replicas(spec: dict[str, Any], path: str) -> list[Cause]:
    """`ValidatePodTemplateSpecForReplicaSet`, reached only when the selector converts."""
    selector = spec.get("selector")
    tpath = f.child(path, "template")
    if not selector_is_convertible(selector):
        return [f.invalid(f.child(path, "selector"), f.go_label_selector(as_dict(selector)), "invalid label selector")]
    template = as_dict(spec.get("template"))
    labels = as_dict(template.get("metadata")).get("labels")
    labels = labels if isinstance(labels, dict) else None
    causes: list[Cause] = []
    if not (selector is not None and selector_is_empty(selector)) and not selector_matches(selector, labels):
        causes.append(
            f.invalid(
                f.child(tpath, "metadata", "labels"),
                f.go_string_map(labels),
                "`selector` does not match template `labels`",
            )
        )
    causes.extend(validate_pod_template_spec(template, tpath))
    template_spec = as_dict(template.get("spec"))
    restart = template_spec.get("restartPolicy")
    if restart != "Always":
        causes.append(f.not_supported(f.child(tpath, "spec", "restartPolicy"), restart or "", ("Always",)))
    if template_spec.get("activeDeadlineSeconds") is not None:
        causes.append(
            f.forbidden(
                f.child(tpath, "spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicaSet is not Supported"
            )
        )
    return causes


def validate_selector_immutable(obj: Object, old: Object) -> list[Cause]:
    new_selector = as_dict(obj.get("spec")).get("selector")
    old_selector = as_dict(old.get("spec")).get("selector")
    if semantic_equal(new_selector, old_selector):
        return []
    value = f.go_label_selector(new_selector if isinstance(new_selector, dict) else None)
    return [f.invalid("spec.selector", value, FIELD_IMMUTABLE)]


def validate_replica_counts(status: dict[str, Any], path: str, counts: tuple[str, ...]) -> list[Cause]:
    causes: list[Cause] = []
    for name in counts:
        causes.extend(validate_nonnegative(status.get(name), f.child(path, name)))
    return causes


def _count(status: dict[str, Any], name: str) -> int:
    return as_int(status.get(name)) or 0


class PodTemplateOwnerStrategy(Strategy):
    """What Deployments and ReplicaSets share: one replica by default, a defaulted pod template, an immutable
    selector, and a pod template whose quantities must decode."""

    group = "apps"
    tracks_generation = True
    has_status = True

    def default(self, obj: Object) -> None:
        spec = child_dict(obj, "spec")
        if spec.get("replicas") is None:
            spec["replicas"] = 1
        default_pod_template(child_dict(spec, "template"))

    def validate_object_update(self, obj: Object, old: Object) -> list[Cause]:
        return validate_selector_immutable(obj, old)

    def decode_problem(self, obj: Object) -> str | None:
        return quantity_problem(as_dict(as_dict(as_dict(obj.get("spec")).get("template")).get("spec")))


class ReplicaSetStrategy(PodTemplateOwnerStrategy):
    kind = "ReplicaSet"

    def validate_object(self, obj: Object) -> list[Cause]:
        spec = as_dict(obj.get("spec"))
        causes = validate_nonnegative(spec.get("replicas"), "spec.replicas")
        causes.extend(validate_nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
        causes.extend(validate_selector(spec, "spec"))
        causes.extend(validate_template_for_replicas(spec, "spec"))
        return causes

class ReplicaSetStatusStrategy(StatusStrategy):
    def validate_status(self, obj: Object, old: Object) -> list[Cause]:
        status = as_dict(obj.get("status"))
        counts = ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration")
        causes = validate_replica_counts(status, "status", counts)
        replicas = _count(status, "replicas")
        for name in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
            if _count(status, name) > replicas:
                causes.append(f.invalid(f.child("status", name), _count(status, name), GREATER_THAN_REPLICAS))
        if _count(status, "availableReplicas") > _count(status, "readyReplicas"):
            causes.append(
                f.invalid(
                    "status.availableReplicas",
                    _count(status, "availableReplicas"),
                    "cannot be greater than readyReplicas",
                )
            )
        return causes
