"""The kubelet's eviction manager, for memory: when a node runs short, a pod is evicted. Pure.

Every housekeeping interval (10 s) the kubelet compares the node's `memory.available` (its capacity less what the
containers use) with the hard threshold (`memory.available<100Mi`, the kubelet's default). Below it, the node is
under MemoryPressure and one pod goes per interval: the kubelet ranks pods first by whether their use exceeds their
requests, then by how far it does (pkg/kubelet/eviction/helpers.go, rankMemoryPressure; priorities are all equal
here). The evicted pod is Failed with reason `Evicted` and the message the kubelet writes
(`The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki. Container hog was using
1048576Ki, request is 0, has larger consumption of memory. `), and a Warning event `Evicted` says the same. The
Node's MemoryPressure condition turns True meanwhile, and stays so for the transition period after the signal clears.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MiB = 2**20
THRESHOLD = 100 * MiB
THRESHOLD_TEXT = "100Mi"
HOUSEKEEPING_SECONDS = 10.0
# The kubelet's --eviction-pressure-transition-period: MemoryPressure stays True this long after the signal clears,
# so that the scheduler (which taints the node node.kubernetes.io/memory-pressure meanwhile) does not put the
# evicted pod's replacement straight back.
PRESSURE_TRANSITION_SECONDS = 300.0
UNDER_PRESSURE = ("True", "KubeletHasInsufficientMemory", "kubelet has insufficient memory available")
NO_PRESSURE = ("False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available")


@dataclass(frozen=True)
class ContainerUsage:
    name: str
    usage: int  # bytes in use now
    request: int  # requests.memory in bytes (0 when none)
    request_text: str  # as the manifest wrote it, "0" when none


@dataclass(frozen=True)
class PodUsage:
    key: tuple[str, str]  # (namespace, name)
    containers: tuple[ContainerUsage, ...]

    @property
    def usage(self) -> int:
        return sum(c.usage for c in self.containers)

    @property
    def over_requests(self) -> int:
        return self.usage - sum(c.request for c in self.containers)


def available(capacity: int, pods: Sequence[PodUsage]) -> int:
    """The node's memory.available: its capacity less what its pods' containers use."""
    return capacity - sum(p.usage for p in pods)


def under_pressure(capacity: int, pods: Sequence[PodUsage]) -> bool:
    return available(capacity, pods) < THRESHOLD


def victim(pods: Sequence[PodUsage]) -> PodUsage | None:
    """The pod the kubelet evicts first: one using more than it requested before one that does not, then the one
    furthest over its requests; None when no pod uses any memory."""
    using = [p for p in pods if p.usage > 0]
    if not using:
        return None
    return max(using, key=lambda p: (p.over_requests > 0, p.over_requests, p.key))


def message(pod: PodUsage, capacity: int, pods: Sequence[PodUsage]) -> str:
    """The kubelet's words on the evicted pod, naming the containers using more than they requested."""
    text = (f"The node was low on resource: memory. Threshold quantity: {THRESHOLD_TEXT}, available: "
            f"{max(available(capacity, pods), 0) // 1024}Ki. ")
    for container in pod.containers:
        if container.usage > container.request:
            text += (f"Container {container.name} was using {container.usage // 1024}Ki, request is "
                     f"{container.request_text}, has larger consumption of memory. ")
    return text
