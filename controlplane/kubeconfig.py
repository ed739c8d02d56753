"""Kubeconfig files: what the server writes for its admin and what `canopy kubeconfig` writes for a tenant.

A tenant's kubeconfig points at the workspace URL (`https://host:6443/clusters/root:team-a`) and embeds the CA, so
kubectl needs no flag at all. Pure: building and reading documents; the callers write them (mode 0600, atomically).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from controlplane.pki import write_atomically
from controlplane.storage.keys import ROOT_WORKSPACE

CLUSTERS_PREFIX = "/clusters/"


class KubeconfigError(ValueError):
    """The kubeconfig cannot be used; the message says what is wrong with it and how to get a good one."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def build(
    server_url: str, ca_pem: bytes, user: str, *, token: str = "", cert_pem: bytes = b"", key_pem: bytes = b"",
    name: str = "canopy", namespace: str = "default",
) -> dict[str, Any]:
    """One cluster, one user, one context (the current one). Credentials: a bearer token or a client certificate."""
    credentials: dict[str, str] = {"token": token} if token else {
        "client-certificate-data": _b64(cert_pem), "client-key-data": _b64(key_pem),
    }
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server_url, "certificate-authority-data": _b64(ca_pem)}}],
        "users": [{"name": user, "user": credentials}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": user, "namespace": namespace}}],
        "current-context": name,
    }


def write(path: Path, config: dict[str, Any]) -> None:
    """Written whole or not at all, readable by its owner only: it holds a credential."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, yaml.safe_dump(config, sort_keys=False).encode(), mode=0o600)


def workspace_url(server_url: str, workspace: str) -> str:
    """The URL of `workspace` on the server that `server_url` (any workspace's URL, or the bare server) is on."""
    return f"{base_url(server_url)}{CLUSTERS_PREFIX}{workspace}"


def base_url(server_url: str) -> str:
    """`https://h:6443/clusters/root:a` -> `https://h:6443`."""
    parts = urlsplit(server_url)
    path = parts.path
    if CLUSTERS_PREFIX in path:
        path = path[: path.index(CLUSTERS_PREFIX)]
    return f"{parts.scheme}://{parts.netloc}{path.rstrip('/')}"


def workspace_of(server_url: str) -> str:
    path = urlsplit(server_url).path
    if CLUSTERS_PREFIX in path:
        return path[path.index(CLUSTERS_PREFIX) + len(CLUSTERS_PREFIX):].strip("/") or ROOT_WORKSPACE
    return ROOT_WORKSPACE


def current(config: object, source: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(cluster, user) of the current context of a parsed kubeconfig; KubeconfigError when it lacks them."""
    def fail(what: str) -> KubeconfigError:
        return KubeconfigError(
            f"{source} is not a usable kubeconfig: {what}; pass the admin kubeconfig the server wrote "
            "(DATA_DIR/admin.kubeconfig)"
        )

    if not isinstance(config, dict):
        raise fail("it is not a YAML mapping")
    def entries(key: str, field: str) -> dict[Any, Any]:
        listed = config.get(key)
        return {e.get("name"): e.get(field) for e in listed if isinstance(e, dict)} if isinstance(listed, list) else {}

    name = config.get("current-context")
    contexts = entries("contexts", "context")
    context = contexts.get(name) if isinstance(name, str) else None
    if not isinstance(context, dict):
        raise fail("it has no current-context")
    cluster = entries("clusters", "cluster").get(context.get("cluster"))
    user = entries("users", "user").get(context.get("user"), False)
    if not isinstance(cluster, dict) or not cluster.get("server"):
        raise fail(f'the cluster of context "{name}" is missing or has no server')
    if user is False or (user is not None and not isinstance(user, dict)):
        raise fail(f'the user of context "{name}" is missing')
    return cluster, user or {}
