"""Service strategy: SetDefaults_Service, IP-family fields, ValidateService and update rules."""

from __future__ import annotations

import copy
from typing import Any

from controlplane.errors import Cause
from controlplane.registry import status_strategy_for, strategy_for


def service(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    body["spec"].update(spec)
    return body


def create(obj: dict[str, Any]) -> tuple[dict[str, Any], list[Cause]]:
    obj = copy.deepcopy(obj)
    strategy = strategy_for("", "Service")
    strategy.prepare_for_create(obj)
    strategy.default(obj)
    return obj, strategy.validate(obj)


def update(obj: dict[str, Any], old: dict[str, Any], *, status: bool = False) -> tuple[dict[str, Any], list[Cause]]:
    obj = copy.deepcopy(obj)
    strategy = status_strategy_for("", "Service") if status else strategy_for("", "Service")
    strategy.prepare_for_update(obj, old)
    strategy.default(obj)
    return obj, strategy.validate(obj) + strategy.validate_update(obj, old)


def messages(causes: list[Cause]) -> list[str]:
    return [f"{c.field}: {c.message}" for c in causes]


def allocated(obj: dict[str, Any], ip: str = "10.96.0.10") -> dict[str, Any]:
    """What the store does after the strategy: allocate the cluster IP."""
    obj["spec"]["clusterIP"] = ip
    obj["spec"]["clusterIPs"] = [ip]
    return obj


def test_defaults_for_a_cluster_ip_service() -> None:
    obj, causes = create(service())
    assert causes == []
    assert obj["spec"] == {
        "selector": {"app": "web"},
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
        "sessionAffinity": "None",
        "type": "ClusterIP",
        "internalTrafficPolicy": "Cluster",
        "ipFamilyPolicy": "SingleStack",
        "ipFamilies": ["IPv4"],
    }
    assert obj["status"] == {"loadBalancer": {}}
    assert "generation" not in obj["metadata"]


def test_defaults_for_load_balancers_client_ip_affinity_and_headless() -> None:
    obj, _ = create(
        service(type="LoadBalancer", sessionAffinity="ClientIP", ports=[{"port": 443, "targetPort": "https"}])
    )
    spec = obj["spec"]
    assert spec["externalTrafficPolicy"] == "Cluster"
    assert spec["allocateLoadBalancerNodePorts"] is True
    assert spec["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    assert spec["ports"][0]["targetPort"] == "https"
    headless, causes = create(service(clusterIP="None", selector=None))
    assert causes == []
    assert headless["spec"]["clusterIPs"] == ["None"]
    assert headless["spec"]["ipFamilyPolicy"] == "RequireDualStack"
    ext, causes = create(service(type="ExternalName", externalName="db.example.com.", ports=[]))
    assert causes == []
    assert "ipFamilyPolicy" not in ext["spec"] and "internalTrafficPolicy" not in ext["spec"]


def test_service_names_are_dns_1035_labels() -> None:
    body = service()
    body["metadata"]["name"] = "1web"
    _, causes = create(body)
    assert messages(causes) == [
        'metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '
        "'-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
        "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    ]


def test_port_rules() -> None:
    ports = [
        {"port": 80},
        {"name": "http", "port": 80},
        {"name": "http", "port": 0, "protocol": "ICMP", "targetPort": "Bad_Name"},
    ]
    _, causes = create(service(ports=ports))
    assert messages(causes) == [
        "spec.ports[0].name: Required value",
        'spec.ports[2].name: Duplicate value: "http"',
        "spec.ports[2].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.ports[2].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
        'spec.ports[2].targetPort: Invalid value: "Bad_Name": must contain only alpha-numeric characters (a-z, 0-9), '
        "and hyphens (-)",
        'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), '
        'Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
    ]


def test_node_ports() -> None:
    _, causes = create(service(ports=[{"port": 80, "nodePort": 30080}]))
    assert messages(causes) == ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]
    _, causes = create(
        service(
            type="NodePort",
            ports=[{"name": "a", "port": 80, "nodePort": 80}, {"name": "b", "port": 81, "nodePort": 80}],
        )
    )
    assert messages(causes) == [
        "spec.ports[1].nodePort: Duplicate value: 80",
        "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid "
        "ports is 30000-32767",
        "spec.ports[1].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid "
        "ports is 30000-32767",
    ]


def test_type_affinity_and_traffic_policies() -> None:
    _, causes = create(service(type="Magic"))
    assert messages(causes) == [
        'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", '
        '"NodePort"'
    ]
    _, causes = create(
        service(
            sessionAffinity="ClientIP",
            sessionAffinityConfig={"clientIP": {"timeoutSeconds": 100000}},
            externalTrafficPolicy="Local",
        )
    )
    assert messages(causes) == [
        "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 100000: must be greater than 0 and less "
        "than 86400",
        'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services',
    ]


def test_cluster_ip_fields() -> None:
    _, causes = create(service(clusterIP="10.0.0.1", clusterIPs=["10.0.0.2"]))
    assert messages(causes) == [
        'spec.clusterIPs: Invalid value: []string{"10.0.0.2"}: first value must match `clusterIP`'
    ]
    _, causes = create(service(clusterIP="bogus"))
    assert messages(causes) == [
        'spec.clusterIPs[0]: Invalid value: "bogus": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'
    ]
    obj, causes = create(service(clusterIP="fd00::10"))
    assert causes == [] and obj["spec"]["ipFamilies"] == ["IPv6"]


def test_external_names_and_external_ips() -> None:
    _, causes = create(service(type="ExternalName", externalName="Not A Host", ports=[]))
    assert [c.field for c in causes] == ["spec.externalName"]
    _, causes = create(service(externalIPs=["127.0.0.1", "203.0.113.9"]))
    assert messages(causes) == [
        'spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)'
    ]


def test_update_restores_allocated_values() -> None:
    old = allocated(create(service(type="NodePort", ports=[{"name": "http", "port": 80}]))[0])
    old["spec"]["ports"][0]["nodePort"] = 31000
    obj, causes = update(service(type="NodePort", ports=[{"name": "http", "port": 80}]), old)
    assert causes == []
    assert obj["spec"]["clusterIP"] == "10.96.0.10"
    assert obj["spec"]["clusterIPs"] == ["10.96.0.10"]
    assert obj["spec"]["ports"][0]["nodePort"] == 31000
    assert obj["spec"]["ipFamilies"] == ["IPv4"]
    assert obj["status"] == old["status"]


def test_cluster_ip_is_immutable() -> None:
    old = allocated(create(service())[0])
    _, causes = update(service(clusterIP="10.96.0.11"), old)
    assert messages(causes) == [
        'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set',
    ]


def test_status_subresource() -> None:
    old = allocated(create(service(type="LoadBalancer"))[0])
    body = service(type="ClusterIP")
    body["status"] = {"loadBalancer": {"ingress": [{"ip": "1.2.3.999"}, {"hostname": "1.2.3.4"}]}}
    obj, causes = update(body, old, status=True)
    assert obj["spec"] == old["spec"]
    assert messages(causes) == [
        'status.loadBalancer.ingress[0].ip: Invalid value: "1.2.3.999": must be a valid IP address',
        'status.loadBalancer.ingress[1].hostname: Invalid value: "1.2.3.4": must be a DNS name, not an IP address',
    ]
