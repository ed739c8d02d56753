"""API discovery documents: how kubectl learns which resources exist, their short names and verbs.

Legacy discovery (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`) is served to every client; aggregated
discovery (one document for all groups, `as=APIGroupDiscoveryList`) is served when asked for, which saves kubectl
one round trip per group-version. Both are derived from the resource registry. Pure: no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import platform
from typing import Any

from api.registry import Registry, ResourceType

KUBERNETES_VERSION = "v1.32.4"

# Subresources and the kind / verbs kube-apiserver reports for them.
_SUBRESOURCES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    # name: (group, version, kind, verbs)
    "status": ("", "", "", ("get", "patch", "update")),
    "scale": ("autoscaling", "v1", "Scale", ("get", "patch", "update")),
    "log": ("", "", "", ("get",)),
    "binding": ("", "v1", "Binding", ("create",)),
}


def storage_version_hash(rt: ResourceType) -> str:
    digest = hashlib.sha256(f"{rt.group}/{rt.version}/{rt.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def _resource_entries(rt: ResourceType) -> list[dict[str, Any]]:
    entry: dict[str, Any] = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
        "storageVersionHash": storage_version_hash(rt),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    entries = [entry]
    for sub in rt.subresources:
        group, version, kind, verbs = _SUBRESOURCES[sub]
        sub_entry: dict[str, Any] = {
            "name": f"{rt.plural}/{sub}",
            "singularName": "",
            "namespaced": rt.namespaced,
            "kind": kind or rt.kind,
            "verbs": list(verbs),
        }
        if group:
            sub_entry["group"], sub_entry["version"] = group, version
        entries.append(sub_entry)
    return entries


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def api_group(registry: Registry, group: str) -> dict[str, Any] | None:
    versions = registry.group_versions().get(group)
    if not versions or not group:
        return None
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list(registry: Registry) -> dict[str, Any]:
    groups = [api_group(registry, g) for g in registry.group_versions() if g]
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [{k: v for k, v in g.items() if k not in ("kind", "apiVersion")} for g in groups if g],
    }


def api_resource_list(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    resources = registry.in_group_version(group, version)
    if not resources:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [e for rt in resources for e in _resource_entries(rt)],
    }


def aggregated_discovery(registry: Registry, *, legacy: bool) -> dict[str, Any]:
    """`apidiscovery.k8s.io/v2 APIGroupDiscoveryList`: for `/api` (legacy=True) or `/apis`."""
    items = []
    for group, versions in registry.group_versions().items():
        if bool(group) == legacy:
            continue
        version_entries = []
        for version in versions:
            resources = []
            for rt in registry.in_group_version(group, version):
                resource: dict[str, Any] = {
                    "resource": rt.plural,
                    "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
                    "scope": "Namespaced" if rt.namespaced else "Cluster",
                    "singularResource": rt.singular,
                    "verbs": list(rt.verbs),
                }
                if rt.short_names:
                    resource["shortNames"] = list(rt.short_names)
                if rt.categories:
                    resource["categories"] = list(rt.categories)
                subs = []
                for sub in rt.subresources:
                    sgroup, sversion, skind, verbs = _SUBRESOURCES[sub]
                    subs.append({
                        "subresource": sub,
                        "responseKind": {
                            "group": sgroup if skind else rt.group,
                            "version": sversion if skind else rt.version,
                            "kind": skind or rt.kind,
                        },
                        "verbs": list(verbs),
                    })
                if subs:
                    resource["subresources"] = subs
                resources.append(resource)
            version_entries.append({"version": version, "resources": resources, "freshness": "Current"})
        items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": version_entries})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}


def version_info(build_commit: str, build_date: str) -> dict[str, str]:
    """`/version`: the Kubernetes API version Canopy serves; Canopy's own build goes in commit and date."""
    major, minor, _ = KUBERNETES_VERSION.lstrip("v").split(".")
    return {
        "major": major,
        "minor": minor,
        "gitVersion": KUBERNETES_VERSION,
        "gitCommit": build_commit,
        "gitTreeState": "clean",
        "buildDate": build_date,
        "goVersion": f"canopy (python {platform.python_version()})",
        "compiler": "canopy",
        "platform": f"linux/{'arm64' if platform.machine() in ('aarch64', 'arm64') else 'amd64'}",
    }
