"""The Nodes of a simulated K3s cluster, as a kubelet registers them and keeps them fresh. Pure: no I/O.

The first node is the K3s server (roles control-plane and master), the others agents, with the labels, addresses,
capacity and node info K3s v1.32 reports. `allocatable` equals `capacity`, as K3s reserves nothing by default. A
kubelet posts its conditions' heartbeat every `nodeStatusReportFrequency` (5 minutes) when nothing changed;
`heartbeat` is that update.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from controlplane.registry.quantity import parse_quantity

K3S_VERSION = "v1.32.4+k3s1"
CONTAINER_RUNTIME = "containerd://2.0.4-k3s2"
OS_IMAGE = "Debian GNU/Linux 12 (bookworm)"
KERNEL = "6.1.0-31-amd64"
REPORT_FREQUENCY_SECONDS = 300.0  # the kubelet's nodeStatusReportFrequency
LEASE_DURATION_SECONDS = 40  # the kubelet's nodeLeaseDurationSeconds
LEASE_RENEW_SECONDS = 10.0  # a quarter of the duration, as the kubelet renews
NODE_LEASE_NAMESPACE = "kube-node-lease"
MAX_PODS = "110"

# (type, status, reason, message) as a healthy kubelet reports them, in its order.
_HEALTHY = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)


def node_name(cluster: str, index: int) -> str:
    return f"{cluster}-server-0" if index == 0 else f"{cluster}-agent-{index - 1}"


def _stable_uuid(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "canopy-simcluster/" + "/".join(str(p) for p in parts)))


def _kibibytes(quantity: str) -> str:
    return f"{int(parse_quantity(quantity).value) // 1024}Ki"


def node(cluster: str, index: int, *, memory: str, cpu: str) -> dict[str, Any]:
    """The Node object a kubelet registers (spec and metadata; the status comes with `initial_status`)."""
    name = node_name(cluster, index)
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/instance-type": "k3s",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": "k3s",
    }
    if index == 0:
        labels["node-role.kubernetes.io/control-plane"] = "true"
        labels["node-role.kubernetes.io/master"] = "true"
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                "canopy.dev/simulated-memory": memory,
                "canopy.dev/simulated-cpu": cpu,
            },
        },
        "spec": {"podCIDR": f"10.42.{index}.0/24", "podCIDRs": [f"10.42.{index}.0/24"], "providerID": f"k3s://{name}"},
    }


def initial_status(cluster: str, index: int, *, memory: str, cpu: str, now: str) -> dict[str, Any]:
    name = node_name(cluster, index)
    resources = {
        "cpu": cpu,
        "ephemeral-storage": "61255492Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": _kibibytes(memory),
        "pods": MAX_PODS,
    }
    return {
        "capacity": dict(resources),
        "allocatable": dict(resources),
        "conditions": [
            {"type": t, "status": s, "lastHeartbeatTime": now, "lastTransitionTime": now, "reason": r, "message": m}
            for t, s, r, m in _HEALTHY
        ],
        "addresses": [{"type": "InternalIP", "address": f"10.0.0.{10 + index}"}, {"type": "Hostname", "address": name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "architecture": "amd64",
            "bootID": _stable_uuid(cluster, name, "boot"),
            "containerRuntimeVersion": CONTAINER_RUNTIME,
            "kernelVersion": KERNEL,
            "kubeProxyVersion": K3S_VERSION,
            "kubeletVersion": K3S_VERSION,
            "machineID": _stable_uuid(cluster, name, "machine").replace("-", ""),
            "operatingSystem": "linux",
            "osImage": OS_IMAGE,
            "systemUUID": _stable_uuid(cluster, name, "system"),
        },
    }


def heartbeat(status: Mapping[str, Any], now: str) -> dict[str, Any]:
    """The status with every condition's lastHeartbeatTime moved to `now` (transitions untouched)."""
    conditions = [{**c, "lastHeartbeatTime": now} for c in status.get("conditions") or [] if isinstance(c, dict)]
    return {**status, "conditions": conditions}


def lease(node_obj: Mapping[str, Any], renew_time: str) -> dict[str, Any]:
    """The node's Lease in kube-node-lease, owned by the Node; `renew_time` is a MicroTime (microseconds)."""
    meta = node_obj["metadata"]
    name = meta["name"]
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": name,
            "namespace": NODE_LEASE_NAMESPACE,
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": meta.get("uid", "")}],
        },
        "spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_DURATION_SECONDS, "renewTime": renew_time},
    }
