"""What the platform admin does from the command line: workspaces for teams, and kubeconfigs for people.

Everything goes through the API with the admin kubeconfig (the official `kubernetes` client), so it is exactly what
`kubectl apply` of a Workspace plus a ClusterRoleBinding would do, and works against a remote server.

Minting a kubeconfig makes a random token on this machine and stores only its SHA-256 (an AccessToken in `root`);
the token itself is written into the new kubeconfig and nowhere else.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from api.types import WORKSPACE_OWNER_ANNOTATION
from controlplane import kubeconfig
from controlplane.auth.authn import token_hash
from controlplane.auth.syncer import SYNCERS_GROUP, syncer_user
from controlplane.storage.keys import ROOT_WORKSPACE

TENANCY = ("tenancy.canopy.dev", "v1alpha1")
WORKLOAD = ("workload.canopy.dev", "v1alpha1")

T = TypeVar("T")


class AdminError(Exception):
    """A failure the admin can act on; the message says how."""


def _load(admin_kubeconfig: Path) -> tuple[dict[str, Any], str, bytes]:
    """(parsed kubeconfig, server base URL, CA PEM) of the admin kubeconfig."""
    try:
        parsed = yaml.safe_load(admin_kubeconfig.read_text())
    except OSError as exc:
        raise AdminError(f"cannot read {admin_kubeconfig}: {exc.strerror}; pass --kubeconfig with the admin "
                         "kubeconfig the server wrote (DATA_DIR/admin.kubeconfig)") from None
    except yaml.YAMLError as exc:
        raise AdminError(f"{admin_kubeconfig} is not YAML ({exc}); pass the admin kubeconfig the server wrote "
                         "(DATA_DIR/admin.kubeconfig)") from None
    try:
        cluster, _ = kubeconfig.current(parsed, str(admin_kubeconfig))
    except kubeconfig.KubeconfigError as exc:
        raise AdminError(str(exc)) from None
    ca = cluster.get("certificate-authority-data")
    if not isinstance(ca, str):
        raise AdminError(f"{admin_kubeconfig} has no certificate-authority-data; pass the admin kubeconfig the "
                         "server wrote (DATA_DIR/admin.kubeconfig)")
    return parsed, kubeconfig.base_url(cluster["server"]), base64.b64decode(ca)


def _client(admin_kubeconfig: Path, workspace: str) -> client.ApiClient:
    parsed, base, _ = _load(admin_kubeconfig)
    api = config.new_client_from_config_dict(parsed)
    api.configuration.host = kubeconfig.workspace_url(base, workspace)
    return api


def _call(what: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except ApiException as exc:
        raise AdminError(f"{what}: {_status_message(exc)}") from None
    except (HTTPError, OSError) as exc:
        raise AdminError(f"{what}: cannot reach the server ({exc}); is `canopy server` running, and is the server "
                         "URL in the kubeconfig right?") from None


def _status_message(exc: ApiException) -> str:
    try:
        body = yaml.safe_load(exc.body or "")
    except yaml.YAMLError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        return f"{body['message']} ({exc.status})"
    return f"{exc.reason} ({exc.status})"


def _split(workspace: str) -> tuple[str, str]:
    parent, _, name = workspace.rpartition(":")
    return parent, name


def create_workspace(admin_kubeconfig: Path, name: str, parent: str, owner: str, *, timeout: float = 30) -> str:
    """Create `parent:name` owned by `owner` (cluster-admin in it) and wait until it is Ready; its URL."""
    workspace = f"{parent}:{name}"
    with _client(admin_kubeconfig, parent) as api:
        objects = client.CustomObjectsApi(api)
        body = {"apiVersion": "/".join(TENANCY), "kind": "Workspace",
                "metadata": {"name": name, "annotations": {WORKSPACE_OWNER_ANNOTATION: owner}}, "spec": {}}
        _call(f"cannot create workspace {workspace}",
              lambda: objects.create_cluster_custom_object(*TENANCY, "workspaces", body))
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while status.get("phase") != "Ready":
            if time.monotonic() > deadline:
                raise AdminError(f"workspace {workspace} is not Ready after {timeout:.0f}s (phase "
                                 f"{status.get('phase') or 'unknown'}); check the server log")
            time.sleep(0.05)
            found = _call(f"cannot read workspace {workspace}",
                          lambda: objects.get_cluster_custom_object(*TENANCY, "workspaces", name))
            status = found.get("status") or {}
    return str(status.get("URL", ""))


def delete_workspace(admin_kubeconfig: Path, workspace: str, *, wait: bool = True, timeout: float = 60) -> None:
    parent, name = _split(workspace)
    if not parent:
        raise AdminError(f'"{workspace}" cannot be deleted: root is the server itself')
    with _client(admin_kubeconfig, parent) as api:
        objects = client.CustomObjectsApi(api)
        _call(f"cannot delete workspace {workspace}",
              lambda: objects.delete_cluster_custom_object(*TENANCY, "workspaces", name))
        deadline = time.monotonic() + timeout
        while wait:
            try:
                objects.get_cluster_custom_object(*TENANCY, "workspaces", name)
            except ApiException as exc:
                if exc.status == 404:
                    return
                raise AdminError(f"cannot follow the deletion of {workspace}: {_status_message(exc)}") from None
            if time.monotonic() > deadline:
                raise AdminError(f"workspace {workspace} is still being deleted after {timeout:.0f}s; check the "
                                 "server log")
            time.sleep(0.1)


def mint_kubeconfig(
    admin_kubeconfig: Path, workspace: str, user: str, out: Path, *, groups: Sequence[str] = (),
    expires_in: timedelta | None = None,
) -> None:
    """Store a new token for `user` and write a kubeconfig for `workspace` that uses it."""
    _, base, ca = _load(admin_kubeconfig)
    token = "canopy-" + secrets.token_urlsafe(32)
    spec: dict[str, Any] = {"user": user, "groups": list(groups), "tokenHash": token_hash(token)}
    if expires_in is not None:
        spec["expirationTimestamp"] = (datetime.now(UTC) + expires_in).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"apiVersion": "/".join(TENANCY), "kind": "AccessToken",
            "metadata": {"generateName": f"{_name_part(user)}-"}, "spec": spec}
    with _client(admin_kubeconfig, ROOT_WORKSPACE) as api:
        _call(f"cannot mint a token for {user}",
              lambda: client.CustomObjectsApi(api).create_cluster_custom_object(*TENANCY, "accesstokens", body))
    context = f"{workspace}-{_name_part(user)}"
    kubeconfig.write(out, kubeconfig.build(kubeconfig.workspace_url(base, workspace), ca, user, token=token,
                                           name=context))


def register_cluster(admin_kubeconfig: Path, name: str, out: Path, *, labels: dict[str, str],
                     allowed_workspaces: Sequence[str]) -> None:
    """Create (or update) Cluster NAME in root and write the kubeconfig its syncer uses: a new token for
    `system:syncer:NAME` in `canopy:syncers`, which may do only what syncing NAME needs
    (controlplane/auth/syncer.py)."""
    body = {"apiVersion": "/".join(WORKLOAD), "kind": "Cluster", "metadata": {"name": name, "labels": labels},
            "spec": {"allowedWorkspaces": list(allowed_workspaces)}}
    with _client(admin_kubeconfig, ROOT_WORKSPACE) as api:
        objects = client.CustomObjectsApi(api)
        try:
            objects.create_cluster_custom_object(*WORKLOAD, "clusters", body)
        except ApiException as exc:
            if exc.status != 409:
                raise AdminError(f"cannot register cluster {name}: {_status_message(exc)}") from None
            patch = {"metadata": {"labels": labels}, "spec": {"allowedWorkspaces": list(allowed_workspaces)}}
            _call(f"cannot update cluster {name}",
                  lambda: objects.patch_cluster_custom_object(*WORKLOAD, "clusters", name, patch))
        except (HTTPError, OSError) as exc:
            raise AdminError(f"cannot register cluster {name}: the server cannot be reached ({exc})") from None
    mint_kubeconfig(admin_kubeconfig, ROOT_WORKSPACE, syncer_user(name), out, groups=[SYNCERS_GROUP])


def _name_part(user: str) -> str:
    """A piece of an object name made from a user name (which may hold `@`, `:` or capitals)."""
    cleaned = "".join(c if c.isalnum() and c.isascii() else "-" for c in user.lower()).strip("-")
    return cleaned[:40].strip("-") or "user"
