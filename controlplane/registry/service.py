"""Service (v1): `SetDefaults_Service`, `pkg/registry/core/service/strategy.go` and `ValidateService`.

Service names are DNS-1035 labels (they become DNS names, so they may not start with a digit). Allocation of
cluster IPs and node ports is the store's job; this module does the pure parts around it, the way kube-apiserver's
service REST layer does: `clusterIP` and `clusterIPs` are kept in sync, a new service gets its IP-family fields
(`SingleStack`/`IPv4` on Canopy's single-stack network; `RequireDualStack` for a headless service without a
selector, as upstream), and an update that omits allocated values (cluster IPs, node ports, the health-check node
port, the IP families) gets them back from the stored object instead of being treated as a change. A node port
outside the node-port range is refused with the allocator's message.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from controlplane.errors import Cause
from controlplane.registry import field as f
from controlplane.registry.base import Object, StatusStrategy, Strategy, keep_old
from controlplane.registry.formats import (
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_ip,
    is_valid_port_name,
    is_valid_port_num,
    name_is_dns1035_label,
    parse_ip,
)
from controlplane.registry.meta import validate_labels
from controlplane.registry.values import as_dict, as_int, as_list, as_str, child_dict, dicts

NODE_PORT_RANGE = (30000, 32767)
MAX_CLIENT_IP_AFFINITY_SECONDS = 86400
DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800
SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
PROTOCOLS = ("SCTP", "TCP", "UDP")
IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
IMMUTABLE_ONCE_SET = "may not change once set"
LOAD_BALANCER_ONLY = "may only be used when `type` is 'LoadBalancer'"


def _type(spec: dict[str, Any]) -> str:
    return as_str(spec.get("type"))


def is_headless(spec: dict[str, Any]) -> bool:
    return as_list(spec.get("clusterIPs")) == ["None"]


def _externally_accessible(spec: dict[str, Any]) -> bool:
    kind = _type(spec)
    return kind in ("LoadBalancer", "NodePort") or (kind == "ClusterIP" and bool(as_list(spec.get("externalIPs"))))


def _needs_health_check(spec: dict[str, Any]) -> bool:
    return _type(spec) == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


def _family(ip: str) -> str:
    return "IPv6" if isinstance(parse_ip(ip), ipaddress.IPv6Address) else "IPv4"


def _service_port_literal(protocol: str, port: int) -> f.GoLiteral:
    return f.GoLiteral(
        f'core.ServicePort{{Name:"", Protocol:{f.go_quote(protocol)}, AppProtocol:(*string)(nil), Port:{port}, '
        'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}'
    )


def _special_ip_problems(ip: str) -> list[str]:
    """`ValidateNonSpecialIP`: addresses that cannot be a service's external IP."""
    addr = parse_ip(ip)
    if addr is None:
        return []
    problems = []
    if addr.is_unspecified:
        problems.append(f"may not be unspecified ({ip})")
    if addr.is_loopback:
        problems.append("may not be in the loopback range (127.0.0.0/8, ::1/128)")
    if addr.is_link_local:
        problems.append("may not be in the link-local range (169.254.0.0/16, fe80::/10)")
    link_local_multicast = (
        addr in ipaddress.ip_network("224.0.0.0/24")
        if isinstance(addr, ipaddress.IPv4Address)
        else addr.is_multicast and addr.packed[1] & 0x0F == 0x02
    )
    if link_local_multicast:
        problems.append("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")
    return problems


def _valid_cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return "/" in value


class ServiceStrategy(Strategy):
    kind = "Service"
    has_status = True
    name_validator = staticmethod(name_is_dns1035_label)

    # ---- defaults and preparation --------------------------------------------------------------------------

    def default(self, obj: Object) -> None:
        spec = child_dict(obj, "spec")
        if not spec.get("sessionAffinity"):
            spec["sessionAffinity"] = "None"
        if spec["sessionAffinity"] == "None":
            spec.pop("sessionAffinityConfig", None)
        elif spec["sessionAffinity"] == "ClientIP":
            client_ip = as_dict(as_dict(spec.get("sessionAffinityConfig")).get("clientIP"))
            if client_ip.get("timeoutSeconds") is None:
                spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": DEFAULT_CLIENT_IP_AFFINITY_SECONDS}}
        if not spec.get("type"):
            spec["type"] = "ClusterIP"
        for port in dicts(spec.get("ports")):
            if not port.get("protocol"):
                port["protocol"] = "TCP"
            if port.get("targetPort") in (None, 0, ""):
                port["targetPort"] = port.get("port")
        if _externally_accessible(spec) and not spec.get("externalTrafficPolicy"):
            spec["externalTrafficPolicy"] = "Cluster"
        if spec.get("internalTrafficPolicy") is None and _type(spec) in ("NodePort", "LoadBalancer", "ClusterIP"):
            spec["internalTrafficPolicy"] = "Cluster"
        if _type(spec) == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
            spec["allocateLoadBalancerNodePorts"] = True

    def initial_status(self, obj: Object) -> dict[str, Any]:
        return {"loadBalancer": {}}

    def prepare_for_create(self, obj: Object) -> None:
        super().prepare_for_create(obj)
        spec = child_dict(obj, "spec")
        if as_str(spec.get("clusterIP")) and not as_list(spec.get("clusterIPs")):
            spec["clusterIPs"] = [spec["clusterIP"]]
        if _type(spec) == "ExternalName":
            return
        if spec.get("ipFamilyPolicy") is None:
            selectorless_headless = is_headless(spec) and not as_dict(spec.get("selector"))
            spec["ipFamilyPolicy"] = "RequireDualStack" if selectorless_headless else "SingleStack"
        if not as_list(spec.get("ipFamilies")):
            ips = [ip for ip in as_list(spec.get("clusterIPs")) if isinstance(ip, str) and parse_ip(ip)]
            spec["ipFamilies"] = [_family(ip) for ip in ips] or ["IPv4"]

    def prepare_for_update(self, obj: Object, old: Object) -> None:
        super().prepare_for_update(obj, old)
        spec, old_spec = child_dict(obj, "spec"), as_dict(old.get("spec"))
        both = (_type(spec), _type(old_spec))
        if "ExternalName" not in both:
            if not as_str(spec.get("clusterIP")) and old_spec.get("clusterIP"):
                spec["clusterIP"] = old_spec["clusterIP"]
            if not as_list(spec.get("clusterIPs")) and old_spec.get("clusterIPs"):
                if spec.get("clusterIP") == old_spec.get("clusterIP"):
                    spec["clusterIPs"] = list(as_list(old_spec.get("clusterIPs")))
                elif as_str(spec.get("clusterIP")):
                    spec["clusterIPs"] = [spec["clusterIP"]]
            for member in ("ipFamilyPolicy", "ipFamilies"):
                if not spec.get(member) and member in old_spec:
                    keep_old(spec, old_spec, member)
        if all(kind in ("NodePort", "LoadBalancer") for kind in both):
            new_ports = {as_int(p.get("nodePort")) for p in dicts(spec.get("ports"))} - {None, 0}
            by_name = {as_str(p.get("name")): as_int(p.get("nodePort")) for p in dicts(old_spec.get("ports"))}
            for port in dicts(spec.get("ports")):
                if not port.get("nodePort"):
                    previous = by_name.get(as_str(port.get("name")))
                    if previous and previous not in new_ports:
                        port["nodePort"] = previous
        if _needs_health_check(spec) and _needs_health_check(old_spec) and not spec.get("healthCheckNodePort"):
            keep_old(spec, old_spec, "healthCheckNodePort")

    # ---- validation ----------------------------------------------------------------------------------------

    def validate_object(self, obj: Object) -> list[Cause]:
        spec = as_dict(obj.get("spec"))
        kind = _type(spec)
        ports = dicts(spec.get("ports"))
        causes: list[Cause] = []
        if not ports and not is_headless(spec) and kind != "ExternalName":
            causes.append(f.required("spec.ports"))
        cluster_ips = [as_str(ip) for ip in as_list(spec.get("clusterIPs"))]
        if kind in ("LoadBalancer", "NodePort") and cluster_ips == ["None"]:
            causes.append(f.invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {kind} services"))
        elif kind == "ExternalName":
            for member in ("clusterIPs", "ipFamilies"):
                if as_list(spec.get(member)):
                    causes.append(f.forbidden(f"spec.{member}", "may not be set for ExternalName services"))
            if spec.get("ipFamilyPolicy") is not None:
                causes.append(f.forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"))
            cname = as_str(spec.get("externalName")).removesuffix(".")
            if cname:
                causes.extend(f.invalid("spec.externalName", cname, m) for m in is_dns1123_subdomain(cname))
            else:
                causes.append(f.required("spec.externalName"))
        names: set[str] = set()
        for i, port in enumerate(ports):
            causes.extend(self._validate_port(port, len(ports) > 1, names, f"spec.ports[{i}]"))
        if spec.get("selector") is not None:
            causes.extend(validate_labels(spec.get("selector"), "spec.selector"))
        causes.extend(self._validate_session_affinity(spec))
        causes.extend(self._validate_cluster_ips(spec))
        for i, ip in enumerate(as_list(spec.get("externalIPs"))):
            ip = as_str(ip)
            problems = is_valid_ip(ip) or _special_ip_problems(ip)
            causes.extend(f.invalid(f"spec.externalIPs[{i}]", ip, m) for m in problems)
        if not kind:
            causes.append(f.required("spec.type"))
        elif kind not in SERVICE_TYPES:
            causes.append(f.not_supported("spec.type", kind, SERVICE_TYPES))
        causes.extend(self._validate_node_ports(spec, ports))
        causes.extend(self._validate_load_balancer_fields(obj, spec))
        causes.extend(self._validate_traffic_policies(spec))
        return causes

    @staticmethod
    def _validate_port(port: dict[str, Any], require_name: bool, names: set[str], path: str) -> list[Cause]:
        causes: list[Cause] = []
        name = as_str(port.get("name"))
        if require_name and not name:
            causes.append(f.required(f"{path}.name"))
        elif name:
            causes.extend(f.invalid(f"{path}.name", name, m) for m in is_dns1123_label(name))
            if name in names:
                causes.append(f.duplicate(f"{path}.name", name))
            else:
                names.add(name)
        number = as_int(port.get("port")) or 0
        causes.extend(f.invalid(f"{path}.port", number, m) for m in is_valid_port_num(number))
        protocol = as_str(port.get("protocol"))
        if not protocol:
            causes.append(f.required(f"{path}.protocol"))
        elif protocol not in PROTOCOLS:
            causes.append(f.not_supported(f"{path}.protocol", protocol, PROTOCOLS))
        target = port.get("targetPort")
        if isinstance(target, str):
            causes.extend(f.invalid(f"{path}.targetPort", target, m) for m in is_valid_port_name(target))
        else:
            target_number = as_int(target) or 0
            causes.extend(f.invalid(f"{path}.targetPort", target_number, m) for m in is_valid_port_num(target_number))
        app_protocol = port.get("appProtocol")
        if app_protocol is not None:
            value = as_str(app_protocol)
            causes.extend(f.invalid(f"{path}.appProtocol", value, m) for m in is_qualified_name(value))
        return causes

    @staticmethod
    def _validate_session_affinity(spec: dict[str, Any]) -> list[Cause]:
        affinity = as_str(spec.get("sessionAffinity"))
        if not affinity:
            return [f.required("spec.sessionAffinity")]
        if affinity not in ("ClientIP", "None"):
            return [f.not_supported("spec.sessionAffinity", affinity, ("ClientIP", "None"))]
        config = spec.get("sessionAffinityConfig")
        if affinity == "None":
            if config is not None:
                return [f.forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None")]
            return []
        when = "when session affinity type is ClientIP"
        if config is None:
            return [f.required("spec.sessionAffinityConfig", when)]
        client_ip = as_dict(config).get("clientIP")
        if client_ip is None:
            return [f.required("spec.sessionAffinityConfig.clientIP", when)]
        timeout = as_dict(client_ip).get("timeoutSeconds")
        if timeout is None:
            return [f.required("spec.sessionAffinityConfig.clientIP.timeoutSeconds", when)]
        seconds = as_int(timeout) or 0
        if not 0 < seconds <= MAX_CLIENT_IP_AFFINITY_SECONDS:
            return [
                f.invalid(
                    "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                    seconds,
                    f"must be greater than 0 and less than {MAX_CLIENT_IP_AFFINITY_SECONDS}",
                )
            ]
        return []

    @staticmethod
    def _validate_cluster_ips(spec: dict[str, Any]) -> list[Cause]:
        """`ValidateServiceClusterIPsRelatedFields`."""
        if _type(spec) == "ExternalName":
            return []
        causes: list[Cause] = []
        cluster_ip = as_str(spec.get("clusterIP"))
        ips = [as_str(ip) for ip in as_list(spec.get("clusterIPs"))]
        ips_literal = f.go_string_slice(ips)
        if cluster_ip:
            if not ips:
                causes.append(f.required("spec.clusterIPs"))
            elif ips[0] != cluster_ip:
                causes.append(f.invalid("spec.clusterIPs", ips_literal, "first value must match `clusterIP`"))
        elif ips:
            causes.append(f.invalid("spec.clusterIPs", ips_literal, "must be empty when `clusterIP` is not specified"))
        families = [as_str(x) for x in as_list(spec.get("ipFamilies"))]
        seen: set[str] = set()
        for i, family in enumerate(families):
            if family not in ("IPv4", "IPv6"):
                causes.append(f.not_supported(f"spec.ipFamilies[{i}]", family, ("IPv4", "IPv6")))
            if family in seen:
                causes.append(f.duplicate(f"spec.ipFamilies[{i}]", family))
            seen.add(family)
        policy = spec.get("ipFamilyPolicy")
        if policy is not None and policy not in IP_FAMILY_POLICIES:
            causes.append(f.not_supported("spec.ipFamilyPolicy", as_str(policy), IP_FAMILY_POLICIES))
        invalid_ips = False
        for i, ip in enumerate(ips):
            if i == 0 and ip == "None":
                if len(ips) > 1:
                    invalid_ips = True
                    causes.append(f.invalid("spec.clusterIPs", ips_literal, "'None' must be the first and only value"))
                continue
            problems = is_valid_ip(ip)
            invalid_ips = invalid_ips or bool(problems)
            causes.extend(f.invalid(f"spec.clusterIPs[{i}]", ip, m) for m in problems)
        if len(ips) > 2:
            causes.append(f.invalid("spec.clusterIPs", ips_literal, "may only hold up to 2 values"))
        if invalid_ips:
            return causes
        if len(ips) > 1 and len({_family(ip) for ip in ips}) != len(ips):
            causes.append(
                f.invalid("spec.clusterIPs", ips_literal, "may specify no more than one IP for each IP family")
            )
        if not is_headless(spec):
            for i, (ip, family) in enumerate(zip(ips, families, strict=False)):
                if family in ("IPv4", "IPv6") and _family(ip) != family:
                    causes.append(
                        f.invalid(
                            f"spec.clusterIPs[{i}]", ip, f"expected an {family} value as indicated by `ipFamilies[{i}]`"
                        )
                    )
        return causes

    @staticmethod
    def _validate_node_ports(spec: dict[str, Any], ports: list[dict[str, Any]]) -> list[Cause]:
        causes: list[Cause] = []
        kind = _type(spec)
        if kind == "ClusterIP":
            for i, port in enumerate(ports):
                if as_int(port.get("nodePort")):
                    causes.append(
                        f.forbidden(f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'")
                    )
        seen_node_ports: set[tuple[str, int]] = set()
        for i, port in enumerate(ports):
            node_port = as_int(port.get("nodePort")) or 0
            if node_port == 0:
                continue
            key = (as_str(port.get("protocol")), node_port)
            if key in seen_node_ports:
                causes.append(f.duplicate(f"spec.ports[{i}].nodePort", node_port))
            seen_node_ports.add(key)
        seen_ports: set[tuple[str, int]] = set()
        for i, port in enumerate(ports):
            key = (as_str(port.get("protocol")), as_int(port.get("port")) or 0)
            if key in seen_ports:
                causes.append(f.duplicate(f"spec.ports[{i}]", _service_port_literal(*key)))
            seen_ports.add(key)
        if kind in ("NodePort", "LoadBalancer"):
            low, high = NODE_PORT_RANGE
            for i, port in enumerate(ports):
                node_port = as_int(port.get("nodePort")) or 0
                if node_port and not low <= node_port <= high:
                    causes.append(
                        f.invalid(
                            f"spec.ports[{i}].nodePort",
                            node_port,
                            f"provided port is not in the valid range. The range of valid ports is {low}-{high}",
                        )
                    )
        return causes

    @staticmethod
    def _validate_load_balancer_fields(obj: Object, spec: dict[str, Any]) -> list[Cause]:
        causes: list[Cause] = []
        is_lb = _type(spec) == "LoadBalancer"
        ranges = [as_str(r) for r in as_list(spec.get("loadBalancerSourceRanges"))]
        annotation = as_dict(as_dict(obj.get("metadata")).get("annotations")).get(
            "service.beta.kubernetes.io/load-balancer-source-ranges"
        )
        if ranges:
            path = "spec.LoadBalancerSourceRanges"  # sic: upstream's capitalisation
            if not is_lb:
                causes.append(f.forbidden(path, LOAD_BALANCER_ONLY))
            for i, value in enumerate(ranges):
                value = value.strip()
                if not _valid_cidr(value):
                    causes.append(
                        f.invalid(
                            f"{path}[{i}]", value, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
                        )
                    )
        elif isinstance(annotation, str):
            path = "metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]"
            if not is_lb:
                causes.append(f.forbidden(path, LOAD_BALANCER_ONLY))
            for value in (v.strip() for v in annotation.strip().split(",") if annotation.strip()):
                if not _valid_cidr(value):
                    causes.append(
                        f.invalid(path, value, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")
                    )
        if spec.get("allocateLoadBalancerNodePorts") is not None and not is_lb:
            causes.append(f.forbidden("spec.allocateLoadBalancerNodePorts", LOAD_BALANCER_ONLY))
        if is_lb and spec.get("allocateLoadBalancerNodePorts") is None:
            causes.append(f.required("allocateLoadBalancerNodePorts"))
        lb_class = spec.get("loadBalancerClass")
        if lb_class is not None:
            if not is_lb:
                causes.append(f.forbidden("spec.loadBalancerClass", LOAD_BALANCER_ONLY))
            else:
                value = as_str(lb_class)
                causes.extend(f.invalid("spec.loadBalancerClass", value, m) for m in is_qualified_name(value))
        return causes

    @staticmethod
    def _validate_traffic_policies(spec: dict[str, Any]) -> list[Cause]:
        causes: list[Cause] = []
        external = as_str(spec.get("externalTrafficPolicy"))
        if not _externally_accessible(spec):
            if external:
                causes.append(
                    f.invalid(
                        "spec.externalTrafficPolicy", external, "may only be set for externally-accessible services"
                    )
                )
        elif not external:
            causes.append(f.required("spec.externalTrafficPolicy"))
        elif external not in ("Cluster", "Local"):
            causes.append(f.not_supported("spec.externalTrafficPolicy", external, ("Cluster", "Local")))
        health = as_int(spec.get("healthCheckNodePort")) or 0
        if not _needs_health_check(spec):
            if health:
                causes.append(
                    f.invalid(
                        "spec.healthCheckNodePort",
                        health,
                        "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
                    )
                )
        elif not health:
            causes.append(f.required("spec.healthCheckNodePort"))
        else:
            causes.extend(f.invalid("spec.healthCheckNodePort", health, m) for m in is_valid_port_num(health))
        internal = spec.get("internalTrafficPolicy")
        if internal is None and _type(spec) in ("NodePort", "LoadBalancer", "ClusterIP"):
            causes.append(f.required("spec.internalTrafficPolicy"))
        if internal is not None and internal not in ("Cluster", "Local"):
            causes.append(f.not_supported("spec.internalTrafficPolicy", as_str(internal), ("Cluster", "Local")))
        distribution = spec.get("trafficDistribution")
        if distribution is not None and distribution != "PreferClose":
            causes.append(f.not_supported("spec.trafficDistribution", as_str(distribution), ("PreferClose",)))
        return causes

    def validate_object_update(self, obj: Object, old: Object) -> list[Cause]:
        spec, old_spec = as_dict(obj.get("spec")), as_dict(old.get("spec"))
        causes: list[Cause] = []
        if "ExternalName" not in (_type(spec), _type(old_spec)) and not (is_headless(spec) and is_headless(old_spec)):
            causes.extend(self._validate_cluster_ip_changes(spec, old_spec))
            causes.extend(self._validate_family_changes(spec, old_spec))
        both_check = _needs_health_check(spec) and _needs_health_check(old_spec)
        if both_check and spec.get("healthCheckNodePort") != old_spec.get("healthCheckNodePort"):
            causes.append(f.forbidden("spec.healthCheckNodePort", "field is immutable"))
        return causes

    @staticmethod
    def _validate_cluster_ip_changes(spec: dict[str, Any], old_spec: dict[str, Any]) -> list[Cause]:
        new_ips = [as_str(ip) for ip in as_list(spec.get("clusterIPs"))]
        old_ips = [as_str(ip) for ip in as_list(old_spec.get("clusterIPs"))]
        literal = f.go_string_slice(new_ips)
        causes: list[Cause] = []
        if len(old_ips) == len(new_ips):
            for i, ip in enumerate(old_ips):
                if ip != new_ips[i]:
                    causes.append(f.invalid(f"spec.clusterIPs[{i}]", literal, IMMUTABLE_ONCE_SET))
        elif len(old_ips) > len(new_ips):
            if not new_ips:
                causes.append(f.invalid("spec.clusterIPs[0]", literal, "primary clusterIP can not be unset"))
            elif new_ips[0] != old_ips[0]:
                causes.append(f.invalid("spec.clusterIPs[0]", literal, IMMUTABLE_ONCE_SET))
            if len(new_ips) == 1 and spec.get("ipFamilyPolicy") != "SingleStack":
                causes.append(
                    f.invalid(
                        "spec.clusterIPs[0]",
                        literal,
                        "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary clusterIP",
                    )
                )
        elif old_ips and new_ips[0] != old_ips[0]:
            causes.append(f.invalid("spec.clusterIPs[0]", literal, IMMUTABLE_ONCE_SET))
        return causes

    @staticmethod
    def _validate_family_changes(spec: dict[str, Any], old_spec: dict[str, Any]) -> list[Cause]:
        new = [as_str(x) for x in as_list(spec.get("ipFamilies"))]
        old = [as_str(x) for x in as_list(old_spec.get("ipFamilies"))]
        literal = f.go_string_slice(new, "core.IPFamily")
        if len(old) == len(new):
            return [
                f.invalid("spec.ipFamilies[0]", literal, IMMUTABLE_ONCE_SET)
                for a, b in zip(old, new, strict=True)
                if a != b
            ]
        if old and new and old[0] != new[0]:
            return [f.invalid("spec.ipFamilies[0]", literal, IMMUTABLE_ONCE_SET)]
        return []


class ServiceStatusStrategy(StatusStrategy):
    def validate_status(self, obj: Object, old: Object) -> list[Cause]:
        causes: list[Cause] = []
        ingress = as_list(as_dict(as_dict(obj.get("status")).get("loadBalancer")).get("ingress"))
        for i, entry in enumerate(dicts(ingress)):
            path = f"status.loadBalancer.ingress[{i}]"
            ip = as_str(entry.get("ip"))
            if ip and parse_ip(ip) is None:
                causes.append(f.invalid(f"{path}.ip", ip, "must be a valid IP address"))
            hostname = as_str(entry.get("hostname"))
            if hostname:
                causes.extend(f.invalid(f"{path}.hostname", hostname, m) for m in is_dns1123_subdomain(hostname))
                if parse_ip(hostname) is not None:
                    causes.append(f.invalid(f"{path}.hostname", hostname, "must be a DNS name, not an IP address"))
        return causes
