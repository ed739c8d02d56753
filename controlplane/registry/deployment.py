"""Deployment (apps/v1): `pkg/registry/apps/deployment/strategy.go`, the apps/v1 defaulter and the validation.

Two details clients notice: the generation moves when the spec *or the annotations* change (annotations are
copied onto the ReplicaSets, so they are part of what a rollout tracks), and a status write may not change the
labels either. Invalid `maxSurge`/`maxUnavailable` values are echoed as Go prints an `intstr.IntOrString`.
"""

from __future__ import annotations

import re
from typing import Any

from controlplane.errors import Cause
from controlplane.registry import field as f
from controlplane.registry.base import Object, StatusStrategy
from controlplane.registry.formats import is_valid_percent
from controlplane.registry.meta import validate_nonnegative
from controlplane.registry.replicaset import (
    GREATER_THAN_REPLICAS,
    PodTemplateOwnerStrategy,
    validate_replica_counts,
    validate_selector,
    validate_template_for_replicas,
)
from controlplane.registry.values import as_dict, as_int, child_dict, semantic_equal

STRATEGY_TYPES = ("Recreate", "RollingUpdate")
_ATOI = re.compile("[+-]?[0-9]+")


def _int_or_percent_value(value: Any) -> int:
    """`getIntOrPercentValue`: a valid percentage's number, else the value as an integer (0 if it is not one)."""
    if isinstance(value, str):
        if not is_valid_percent(value):
            return int(value[:-1])
        return int(value) if _ATOI.fullmatch(value) else 0
    return as_int(value) or 0


def _validate_int_or_percent(value: Any, path: str) -> list[Cause]:
    if isinstance(value, str):
        return [f.invalid(path, f.go_int_or_string(value), msg) for msg in is_valid_percent(value)]
    return validate_nonnegative(value, path)


def _validate_strategy(strategy: dict[str, Any], path: str) -> list[Cause]:
    kind = strategy.get("type")
    rolling = strategy.get("rollingUpdate")
    if kind == "Recreate":
        if rolling is not None:
            return [
                f.forbidden(f.child(path, "rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")
            ]
        return []
    if kind == "RollingUpdate":
        if rolling is None:
            return [f.required(f.child(path, "rollingUpdate"), "this should be defaulted and never be nil")]
        rolling = as_dict(rolling)
        rpath = f.child(path, "rollingUpdate")
        unavailable, surge = rolling.get("maxUnavailable", 0), rolling.get("maxSurge", 0)
        causes = _validate_int_or_percent(unavailable, f.child(rpath, "maxUnavailable"))
        causes.extend(_validate_int_or_percent(surge, f.child(rpath, "maxSurge")))
        if _int_or_percent_value(unavailable) == 0 and _int_or_percent_value(surge) == 0:
            causes.append(
                f.invalid(
                    f.child(rpath, "maxUnavailable"),
                    f.go_int_or_string(unavailable),
                    "may not be 0 when `maxSurge` is 0",
                )
            )
        if isinstance(unavailable, str) and not is_valid_percent(unavailable) and int(unavailable[:-1]) > 100:
            causes.append(
                f.invalid(
                    f.child(rpath, "maxUnavailable"), f.go_int_or_string(unavailable), "must not be greater than 100%"
                )
            )
        return causes
    rendered = (
        f"apps.DeploymentStrategy{{Type:{f.go_quote(str(kind or ''))}, RollingUpdate:"
        + ("(*apps.RollingUpdateDeployment)(nil)" if rolling is None else "&apps.RollingUpdateDeployment{...}")
        + "}"
    )
    return [f.not_supported(path, f.GoLiteral(rendered), STRATEGY_TYPES)]


class DeploymentStrategy(PodTemplateOwnerStrategy):
    kind = "Deployment"

    def default(self, obj: Object) -> None:
        super().default(obj)
        spec = child_dict(obj, "spec")
        strategy = child_dict(spec, "strategy")
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
        if strategy["type"] == "RollingUpdate":
            rolling = child_dict(strategy, "rollingUpdate")
            for member in ("maxUnavailable", "maxSurge"):
                if rolling.get(member) is None:
                    rolling[member] = "25%"
        if spec.get("revisionHistoryLimit") is None:
            spec["revisionHistoryLimit"] = 10
        if spec.get("progressDeadlineSeconds") is None:
            spec["progressDeadlineSeconds"] = 600

    def spec_changed(self, obj: Object, old: Object) -> bool:
        annotations = as_dict(obj.get("metadata")).get("annotations")
        old_annotations = as_dict(old.get("metadata")).get("annotations")
        return super().spec_changed(obj, old) or not semantic_equal(annotations, old_annotations)

    def validate_object(self, obj: Object) -> list[Cause]:
        spec = as_dict(obj.get("spec"))
        causes = validate_nonnegative(spec.get("replicas"), "spec.replicas")
        causes.extend(validate_selector(spec, "spec"))
        causes.extend(validate_template_for_replicas(spec, "spec"))
        causes.extend(_validate_strategy(as_dict(spec.get("strategy")), "spec.strategy"))
        causes.extend(validate_nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
        causes.extend(validate_nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit"))
        deadline = as_int(spec.get("progressDeadlineSeconds"))
        if deadline is not None:
            causes.extend(validate_nonnegative(deadline, "spec.progressDeadlineSeconds"))
            if deadline <= (as_int(spec.get("minReadySeconds")) or 0):
                causes.append(
                    f.invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds")
                )
        return causes

class DeploymentStatusStrategy(StatusStrategy):
    def validate_status(self, obj: Object, old: Object) -> list[Cause]:
        status = as_dict(obj.get("status"))
        counts = (
            "observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
            "unavailableReplicas", "collisionCount",
        )  # fmt: skip
        causes = validate_replica_counts(status, "status", counts)
        replicas = as_int(status.get("replicas")) or 0
        for name in ("updatedReplicas", "readyReplicas", "availableReplicas"):
            value = as_int(status.get(name)) or 0
            if value > replicas:
                causes.append(f.invalid(f.child("status", name), value, GREATER_THAN_REPLICAS))
        available, ready = as_int(status.get("availableReplicas")) or 0, as_int(status.get("readyReplicas")) or 0
        if available > ready:
            causes.append(f.invalid("status.availableReplicas", available, "cannot be greater than readyReplicas"))
        new_collisions = as_int(status.get("collisionCount"))
        old_collisions = as_int(as_dict(old.get("status")).get("collisionCount"))
        if old_collisions is not None and (new_collisions is None or new_collisions < old_collisions):
            causes.append(f.invalid("status.collisionCount", new_collisions or 0, "cannot be decremented"))
        return causes
