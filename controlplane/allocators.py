"""Cluster IPs and node ports for Services, allocated per workspace.

Every workspace is a cluster of its own, so each has its own service network (10.96.0.0/12, as kubeadm and K3s
default to) with `10.96.0.1` kept for the `kubernetes` Service, and its own node-port range 30000-32767. Addresses
are chosen at random among the free ones, as kube-apiserver's allocator does; "free" is judged from the watch
cache, and two servers racing for the same random address among a million is accepted, as documented.
Pure: the caller passes what is in use.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

from controlplane.errors import Cause

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
KUBERNETES_SERVICE_IP = "10.96.0.1"
NODE_PORTS = range(30000, 32768)
_TRIES = 64


def in_use(services: list[dict[str, Any]]) -> tuple[set[str], set[int]]:
    """The cluster IPs and node ports the given Services hold."""
    ips: set[str] = set()
    ports: set[int] = set()
    for svc in services:
        spec = svc.get("spec") or {}
        ips.update(ip for ip in spec.get("clusterIPs") or [spec.get("clusterIP")] if ip and ip != "None")
        ports.update(p["nodePort"] for p in spec.get("ports") or [] if isinstance(p, dict) and p.get("nodePort"))
    return ips, ports


def allocate(spec: dict[str, Any], used_ips: set[str], used_ports: set[int], rng: random.Random) -> list[Cause]:
    """Give a new Service its cluster IP and node ports (in place); causes for the values that cannot be had."""
    causes: list[Cause] = []
    kind = spec.get("type") or "ClusterIP"
    if kind == "ExternalName":
        return causes
    requested = spec.get("clusterIP") or ""
    if requested == "None":
        spec["clusterIPs"] = ["None"]
    elif requested:
        causes += _check_requested_ip(requested, used_ips)
    else:
        ip = _random_ip(used_ips, rng)
        if ip is None:
            causes.append(Cause("spec.clusterIPs", "Internal error: failed to allocate a serviceIP: range is full",
                                "InternalError"))
        else:
            spec["clusterIP"] = ip
            spec["clusterIPs"] = [ip]
    if kind in ("NodePort", "LoadBalancer"):
        for i, port in enumerate(spec.get("ports") or []):
            if not isinstance(port, dict):
                continue
            wanted = port.get("nodePort")
            if wanted:
                if wanted in used_ports:
                    causes.append(Cause(f"spec.ports[{i}].nodePort",
                                        f"Invalid value: {wanted}: provided port is already allocated"))
                used_ports.add(wanted)
                continue
            free = [p for p in rng.sample(NODE_PORTS, _TRIES) if p not in used_ports]
            if not free:
                causes.append(Cause(f"spec.ports[{i}].nodePort", "Internal error: failed to allocate a nodePort",
                                    "InternalError"))
                continue
            port["nodePort"] = free[0]
            used_ports.add(free[0])
    return causes


def _check_requested_ip(ip: str, used: set[str]) -> list[Cause]:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return [Cause("spec.clusterIPs[0]", f'Invalid value: "{ip}": must be a valid IP address, (e.g. 10.9.8.7 '
                      'or 2001:db8::ffff)')]
    if address not in SERVICE_CIDR:
        return [Cause("spec.clusterIPs", f'Invalid value: []string{{"{ip}"}}: failed to allocate IP {ip}: the '
                      f"provided IP ({ip}) is not in the valid range. The range of valid IPs is {SERVICE_CIDR}")]
    if ip in used:
        return [Cause("spec.clusterIPs", f'Invalid value: []string{{"{ip}"}}: failed to allocate IP {ip}: '
                      "provided IP is already allocated")]
    return []


def _random_ip(used: set[str], rng: random.Random) -> str | None:
    used = used | {KUBERNETES_SERVICE_IP}
    first = int(SERVICE_CIDR.network_address) + 1
    last = int(SERVICE_CIDR.broadcast_address) - 1
    for _ in range(_TRIES):
        ip = str(ipaddress.ip_address(rng.randint(first, last)))
        if ip not in used:
            return ip
    return None
