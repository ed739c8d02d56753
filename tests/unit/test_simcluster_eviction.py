"""The eviction manager's choice and words (simcluster/eviction.py), as pkg/kubelet/eviction ranks and writes."""

from __future__ import annotations

from simcluster.eviction import ContainerUsage, MiB, PodUsage, message, under_pressure, victim

GiB = 1024 * MiB


def pod(name: str, *containers: tuple[str, int, int]) -> PodUsage:
    return PodUsage(("default", name), tuple(ContainerUsage(c, usage, request, f"{request // MiB}Mi" if request
                                                            else "0") for c, usage, request in containers))


def test_the_node_is_under_pressure_below_100mi_available() -> None:
    assert not under_pressure(2 * GiB, [pod("a", ("a", 2 * GiB - 100 * MiB, 0))])
    assert under_pressure(2 * GiB, [pod("a", ("a", 2 * GiB - 99 * MiB, 0))])


def test_a_pod_over_its_requests_goes_before_a_bigger_one_within_them() -> None:
    within = pod("within", ("db", 1500 * MiB, 2 * GiB))
    over = pod("over", ("cache", 300 * MiB, 100 * MiB))
    assert victim([within, over]) == over


def test_among_pods_over_their_requests_the_furthest_over_goes() -> None:
    little = pod("little", ("a", 300 * MiB, 200 * MiB))
    much = pod("much", ("b", 900 * MiB, 0))
    assert victim([little, much]) == much


def test_no_victim_when_nothing_uses_memory() -> None:
    assert victim([pod("idle", ("a", 0, 0))]) is None
    assert victim([]) is None


def test_the_message_is_the_kubelets_naming_the_containers_over_their_requests() -> None:
    hog = pod("hog", ("hog", 2000 * MiB, 0), ("sidecar", 10 * MiB, 64 * MiB))
    assert message(hog, 2 * GiB, [hog]) == (
        "The node was low on resource: memory. Threshold quantity: 100Mi, available: 38912Ki. "
        "Container hog was using 2048000Ki, request is 0, has larger consumption of memory. ")
