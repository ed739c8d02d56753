"""Pod (v1): `pkg/registry/core/pod/strategy.go`, `SetDefaults_Pod` and the pod validation.

A new pod starts `Pending` with its QoS class computed from the (defaulted) resources, and, when it has
scheduling gates, a `PodScheduled=False/SchedulingGated` condition. After creation its spec is nearly frozen:
an update may change container images, shorten `activeDeadlineSeconds`, add tolerations and remove scheduling
gates, and nothing else. Pods carry no `metadata.generation` in 1.32.

The forbidden-update message ends, in kube-apiserver, with a `cmp.Diff` of the Go structs; Canopy ends it with
the list of changed spec fields instead.
"""

from __future__ import annotations

import copy
from fractions import Fraction
from typing import Any

from controlplane.errors import Cause
from controlplane.registry import field as f
from controlplane.registry.base import Object, StatusStrategy, Strategy, metadata
from controlplane.registry.formats import inclusive_range_error, is_valid_ip
from controlplane.registry.pod_defaults import default_pod
from controlplane.registry.pod_validation import MAX_INT32, quantity_problem, validate_pod_spec
from controlplane.registry.quantity import QuantityError, parse_quantity
from controlplane.registry.values import as_dict, as_int, as_list, as_str, dicts, normalized, semantic_equal

UPDATABLE_FIELDS = (
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
)


def _positive_amounts(resources: Any) -> dict[str, Fraction]:
    amounts = {}
    for name in ("cpu", "memory"):
        try:
            q = parse_quantity(as_dict(resources).get(name))
        except (QuantityError, TypeError, AttributeError):
            continue
        if q.value > 0:
            amounts[name] = q.value
    return amounts


def qos_class(spec: Any) -> str:
    """`qos.ComputePodQOS` over the regular and init containers' cpu and memory."""
    spec = as_dict(spec)
    requests: dict[str, Fraction] = {}
    limits: dict[str, Fraction] = {}
    guaranteed = True
    for container in dicts(spec.get("containers")) + dicts(spec.get("initContainers")):
        resources = as_dict(container.get("resources"))
        for name, value in _positive_amounts(resources.get("requests")).items():
            requests[name] = requests.get(name, Fraction(0)) + value
        container_limits = _positive_amounts(resources.get("limits"))
        for name, value in container_limits.items():
            limits[name] = limits.get(name, Fraction(0)) + value
        if set(container_limits) != {"cpu", "memory"}:
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if (
        guaranteed
        and all(limits.get(name) == value for name, value in requests.items())
        and len(requests) == len(limits)
    ):
        return "Guaranteed"
    return "Burstable"


def _changed_fields(new: Any, old: Any, path: str) -> list[str]:
    if isinstance(new, dict) and isinstance(old, dict):
        out = []
        for k in sorted(set(new) | set(old)):
            out.extend(_changed_fields(new.get(k), old.get(k), f.child(path, k)))
        return out
    if isinstance(new, list) and isinstance(old, list) and len(new) == len(old):
        out = []
        for i, (a, b) in enumerate(zip(new, old, strict=True)):
            out.extend(_changed_fields(a, b, f.index(path, i)))
        return out
    return [] if new == old else [path]


# The DefaultTolerationSeconds admission plugin (on in kube-apiserver and K3s): a pod stays bound to a node that
# goes not-ready or unreachable for 5 minutes before the taint evicts it, unless it says otherwise.
DEFAULT_TOLERATION_SECONDS = 300
DEFAULT_TOLERATED_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")


def add_default_tolerations(spec: dict[str, Any]) -> None:
    tolerations = [t for t in as_list(spec.get("tolerations")) if isinstance(t, dict)]
    added = False
    for key in DEFAULT_TOLERATED_TAINTS:
        if any(t.get("effect", "") in ("", "NoExecute") and (t.get("key", "") == key or (
                not t.get("key") and t.get("operator") == "Exists")) for t in tolerations):
            continue
        tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                            "tolerationSeconds": DEFAULT_TOLERATION_SECONDS})
        added = True
    if added:
        spec["tolerations"] = tolerations


def _toleration_key(toleration: Any) -> Any:
    t = dict(as_dict(toleration))
    t.pop("tolerationSeconds", None)
    return normalized(t)


class PodStrategy(Strategy):
    kind = "Pod"
    has_status = True

    def default(self, obj: Object) -> None:
        default_pod(obj)

    def prepare_for_create(self, obj: Object) -> None:
        super().prepare_for_create(obj)
        add_default_tolerations(as_dict(obj.get("spec")))

    def graceful_delete_seconds(self, obj: Object, requested: int | None) -> int:
        """A pod on a node is stopped by its kubelet, which deletes it for good (grace 0) once the containers
        have exited; until then it is Terminating. A pod that never reached a node, or has finished, goes at once.
        """
        spec = as_dict(obj.get("spec"))
        if not spec.get("nodeName") or as_dict(obj.get("status")).get("phase") in ("Succeeded", "Failed"):
            return 0
        if requested is not None:
            return max(requested, 0)
        period = spec.get("terminationGracePeriodSeconds")
        return period if isinstance(period, int) and period >= 0 else 30

    def initial_status(self, obj: Object) -> dict[str, Any]:
        spec = as_dict(obj.get("spec"))
        status: dict[str, Any] = {"phase": "Pending", "qosClass": qos_class(spec)}
        if as_list(spec.get("schedulingGates")):
            status["conditions"] = [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "lastProbeTime": None,
                    "lastTransitionTime": metadata(obj).get("creationTimestamp"),
                    "reason": "SchedulingGated",
                    "message": "Scheduling is blocked due to non-empty scheduling gates",
                }
            ]
        return status

    def validate_object(self, obj: Object) -> list[Cause]:
        spec = as_dict(obj.get("spec"))
        causes = validate_pod_spec(spec, "spec", is_pod=True)
        if not as_str(spec.get("serviceAccountName")):
            for vi, volume in enumerate(dicts(spec.get("volumes"))):
                for si, source in enumerate(dicts(as_dict(volume.get("projected")).get("sources"))):
                    if source.get("serviceAccountToken") is not None:
                        path = f"spec.volumes[{vi}].projected.sources[{si}].serviceAccountToken"
                        causes.append(f.forbidden(path, "must not be specified when serviceAccountName is not set"))
        for list_name in ("containers", "initContainers"):
            for i, container in enumerate(dicts(spec.get(list_name))):
                image = as_str(container.get("image"))
                if image != image.strip():
                    causes.append(
                        f.invalid(f"spec.{list_name}[{i}].image", image, "must not have leading or trailing whitespace")
                    )
        if as_list(spec.get("ephemeralContainers")):
            causes.append(f.forbidden("spec.ephemeralContainers", "cannot be set on create"))
        if as_str(spec.get("nodeName")) and as_list(spec.get("schedulingGates")):
            causes.append(f.forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared"))
        return causes

    def validate_object_update(self, obj: Object, old: Object) -> list[Cause]:
        spec, old_spec = as_dict(obj.get("spec")), as_dict(old.get("spec"))
        for list_name in ("containers", "initContainers"):
            if len(as_list(spec.get(list_name))) != len(as_list(old_spec.get(list_name))):
                return [f.forbidden(f"spec.{list_name}", "pod updates may not add or remove containers")]
        causes: list[Cause] = []
        deadline, old_deadline = spec.get("activeDeadlineSeconds"), old_spec.get("activeDeadlineSeconds")
        if deadline is not None:
            n = as_int(deadline)
            if n is None or not 0 <= n <= MAX_INT32:
                return [f.invalid("spec.activeDeadlineSeconds", n, inclusive_range_error(0, MAX_INT32))]
            old_n = as_int(old_deadline)
            if old_n is not None and old_n < n:
                return [f.invalid("spec.activeDeadlineSeconds", n, "must be less than or equal to previous value")]
        elif old_deadline is not None:
            causes.append(
                f.invalid("spec.activeDeadlineSeconds", None, "must not update from a positive integer to nil value")
            )
        new_tolerations = [_toleration_key(t) for t in as_list(spec.get("tolerations"))]
        if any(_toleration_key(t) not in new_tolerations for t in as_list(old_spec.get("tolerations"))):
            causes.append(
                f.forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds")
            )
        old_gates = {as_str(g.get("name")) for g in dicts(old_spec.get("schedulingGates"))}
        for i, gate in enumerate(dicts(spec.get("schedulingGates"))):
            name = as_str(gate.get("name"))
            if name not in old_gates:
                causes.append(
                    f.forbidden(
                        f"spec.schedulingGates[{i}].name",
                        f"only deletion is allowed, but found new scheduling gate '{name}'",
                    )
                )
        if semantic_equal(spec, old_spec):
            return causes
        munged = copy.deepcopy(spec)
        for list_name in ("containers", "initContainers"):
            for container, old_container in zip(
                dicts(munged.get(list_name)), dicts(old_spec.get(list_name)), strict=False
            ):
                container["image"] = old_container.get("image")
        for member in ("activeDeadlineSeconds", "schedulingGates", "tolerations"):
            if member in old_spec:
                munged[member] = copy.deepcopy(old_spec[member])
            else:
                munged.pop(member, None)
        old_grace = as_int(old_spec.get("terminationGracePeriodSeconds"))
        if old_grace is not None and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
            munged["terminationGracePeriodSeconds"] = old_grace
        if not semantic_equal(munged, old_spec):
            changed = _changed_fields(normalized(munged), normalized(old_spec), "spec")
            detail = "pod updates may not change fields other than " + ",".join(UPDATABLE_FIELDS)
            causes.append(f.forbidden("spec", detail + "\n" + "\n".join(f"  {c}" for c in changed)))
        return causes

    def decode_problem(self, obj: Object) -> str | None:
        return quantity_problem(obj.get("spec"))


class PodStatusStrategy(StatusStrategy):
    def prepare_for_update(self, obj: Object, old: Object) -> None:
        super().prepare_for_update(obj, old)
        status = obj.get("status")
        old_qos = as_dict(old.get("status")).get("qosClass")
        if isinstance(status, dict) and not status.get("qosClass") and old_qos:
            status["qosClass"] = old_qos

    def validate_status(self, obj: Object, old: Object) -> list[Cause]:
        status = as_dict(obj.get("status"))
        causes: list[Cause] = []
        for member in ("podIPs", "hostIPs"):
            for i, entry in enumerate(dicts(status.get(member))):
                ip = as_str(entry.get("ip"))
                causes.extend(f.invalid(f"status.{member}[{i}]", ip, m) for m in is_valid_ip(ip))
        return causes
