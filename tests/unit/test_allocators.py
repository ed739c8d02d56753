import random

from controlplane.allocators import KUBERNETES_SERVICE_IP, SERVICE_CIDR, allocate, in_use


def test_cluster_ip_is_allocated_in_the_service_network_and_never_the_kubernetes_one() -> None:
    rng = random.Random(1)
    spec: dict = {"type": "ClusterIP", "ports": [{"port": 80}]}
    assert allocate(spec, set(), set(), rng) == []
    assert spec["clusterIP"] != KUBERNETES_SERVICE_IP
    assert spec["clusterIPs"] == [spec["clusterIP"]]
    import ipaddress

    assert ipaddress.ip_address(spec["clusterIP"]) in SERVICE_CIDR


def test_requested_ip_already_in_use_is_refused() -> None:
    spec = {"clusterIP": "10.96.0.10"}
    causes = allocate(spec, {"10.96.0.10"}, set(), random.Random(1))
    assert causes and "already allocated" in causes[0].message


def test_requested_ip_outside_the_range_is_refused() -> None:
    causes = allocate({"clusterIP": "192.168.1.1"}, set(), set(), random.Random(1))
    assert causes and "not in the valid range" in causes[0].message


def test_headless_and_external_name_services_get_no_ip() -> None:
    headless = {"clusterIP": "None"}
    assert allocate(headless, set(), set(), random.Random(1)) == []
    assert headless["clusterIPs"] == ["None"]
    external = {"type": "ExternalName", "externalName": "example.com"}
    assert allocate(external, set(), set(), random.Random(1)) == []
    assert "clusterIP" not in external


def test_node_ports_are_allocated_once_per_workspace() -> None:
    spec = {"type": "NodePort", "ports": [{"port": 80}, {"port": 443, "nodePort": 30080}]}
    assert allocate(spec, set(), {30000}, random.Random(2)) == []
    first = spec["ports"][0]["nodePort"]
    assert 30000 <= first <= 32767 and first not in (30000, 30080)
    taken = allocate({"type": "NodePort", "ports": [{"port": 1, "nodePort": 30080}]}, set(), {30080},
                     random.Random(3))
    assert taken and "already allocated" in taken[0].message


def test_in_use_collects_ips_and_node_ports() -> None:
    ips, ports = in_use([{"spec": {"clusterIPs": ["10.96.0.7"], "ports": [{"nodePort": 31000}]}},
                         {"spec": {"clusterIP": "None"}}])
    assert ips == {"10.96.0.7"} and ports == {31000}
