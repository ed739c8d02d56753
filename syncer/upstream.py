"""The syncer's connection to the control plane: Kubernetes REST over one aiohttp session, any workspace.

The syncer's kubeconfig (from `canopy cluster register`) points at `root` with a bearer token and the control
plane's CA; every workspace is the same server under `/clusters/<workspace>`. Watches are streamed (one JSON event
per line) and surface as `WatchEvent`s; a 410 Gone — the watch's resourceVersion compacted away — raises `Expired`
so that the caller relists, as client-go's reflector does. Every failure, an error answer or no answer at all (the
control plane down, a connection dropped mid-watch), is an `UpstreamError`, so a caller's retry covers them all.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import yaml

from controlplane import kubeconfig


class UpstreamError(Exception):
    def __init__(self, status: int, message: str, reason: str = "") -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


class Expired(UpstreamError):
    """410 Gone: the resourceVersion a watch started from is gone; list again."""


class Unreachable(UpstreamError):
    """No answer: the control plane cannot be reached, or the connection broke off."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(503, str(cause) or type(cause).__name__, "ServiceUnavailable")


_TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    namespaced: bool = True

    def path(self, workspace: str, namespace: str = "", name: str = "", subresource: str = "") -> str:
        base = f"/clusters/{workspace}" + (f"/apis/{self.group}/{self.version}" if self.group else "/api/v1")
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{quote(name, safe='')}"
        if subresource:
            base += f"/{subresource}"
        return base


DEPLOYMENTS = Resource("apps", "v1", "deployments")
CONFIGMAPS = Resource("", "v1", "configmaps")
SECRETS = Resource("", "v1", "secrets")
SERVICEACCOUNTS = Resource("", "v1", "serviceaccounts")
SERVICES = Resource("", "v1", "services")
PODS = Resource("", "v1", "pods")
EVENTS = Resource("", "v1", "events")
NAMESPACES = Resource("", "v1", "namespaces", namespaced=False)
CLUSTERS = Resource("workload.canopy.dev", "v1alpha1", "clusters", namespaced=False)


@dataclass(frozen=True)
class WatchEvent:
    type: str
    obj: dict[str, Any]


class Upstream:
    def __init__(self, base_url: str, token: str, ca_pem: bytes) -> None:
        self.base_url = base_url
        self._token = token
        self._ssl = ssl.create_default_context(cadata=ca_pem.decode())
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_kubeconfig(cls, path: Path) -> Upstream:
        parsed = yaml.safe_load(path.read_text())
        cluster, user = kubeconfig.current(parsed, str(path))
        token = (user or {}).get("token", "")
        if not token:
            raise kubeconfig.KubeconfigError(
                f"{path} has no token; use the kubeconfig `canopy cluster register` wrote for this syncer")
        ca = base64.b64decode(cluster.get("certificate-authority-data", ""))
        return cls(kubeconfig.base_url(cluster["server"]), token, ca)

    async def __aenter__(self) -> Upstream:
        self._session = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"},
            # No pool limit: each served workspace holds a watch per resource open, and a request waiting for a
            # free connection behind them would wait for ever.
            connector=aiohttp.TCPConnector(ssl=self._ssl, limit=0),
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use `async with Upstream(...)`"
        return self._session

    async def request(self, method: str, path: str, *, body: Any = None, params: Mapping[str, str] | None = None,
                      content_type: str = "application/json") -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": content_type} if data is not None else {}
        try:
            async with self.session.request(method, self.base_url + path, data=data, params=params,
                                            headers=headers) as response:
                text = await response.text()
                status = response.status
        except _TRANSPORT_ERRORS as exc:
            raise Unreachable(exc) from exc
        try:
            payload = json.loads(text) if text else {}
        except ValueError:
            payload = {}
        if status >= 400:
            error = Expired if status == 410 else UpstreamError
            raise error(status, payload.get("message", text), payload.get("reason", ""))
        return payload

    async def get(self, resource: Resource, workspace: str, namespace: str, name: str,
                  subresource: str = "") -> dict[str, Any] | None:
        try:
            return await self.request("GET", resource.path(workspace, namespace, name, subresource))
        except UpstreamError as exc:
            if exc.status == 404:
                return None
            raise

    async def list(self, resource: Resource, workspace: str, namespace: str = "",
                   params: Mapping[str, str] | None = None) -> dict[str, Any]:
        return await self.request("GET", resource.path(workspace, namespace), params=params)

    async def create(self, resource: Resource, workspace: str, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self.request("POST", resource.path(workspace, namespace), body=body)

    async def replace(self, resource: Resource, workspace: str, namespace: str, name: str, body: dict[str, Any],
                      subresource: str = "") -> dict[str, Any]:
        return await self.request("PUT", resource.path(workspace, namespace, name, subresource), body=body)

    async def merge_patch(self, resource: Resource, workspace: str, namespace: str, name: str, patch: dict[str, Any],
                          subresource: str = "") -> dict[str, Any]:
        return await self.request("PATCH", resource.path(workspace, namespace, name, subresource), body=patch,
                                  content_type="application/merge-patch+json")

    async def bind(self, workspace: str, namespace: str, pod: str, node: str, uid: str) -> None:
        """Assign pod `pod` (only if its uid is still `uid`) to `node`, as a scheduler does."""
        await self.request("POST", PODS.path(workspace, namespace, pod, "binding"), body={
            "apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod, "uid": uid},
            "target": {"kind": "Node", "name": node}})

    async def delete(self, resource: Resource, workspace: str, namespace: str, name: str, *,
                     grace_period_seconds: int | None = None) -> None:
        params = {} if grace_period_seconds is None else {"gracePeriodSeconds": str(grace_period_seconds)}
        try:
            await self.request("DELETE", resource.path(workspace, namespace, name), params=params)
        except UpstreamError as exc:
            if exc.status != 404:
                raise

    async def watch(self, resource: Resource, workspace: str, resource_version: str, namespace: str = "",
                    params: Mapping[str, str] | None = None) -> AsyncIterator[WatchEvent]:
        """Events after `resource_version` until the server ends the watch; raises Expired on 410."""
        params = {**(params or {}), "watch": "1", "resourceVersion": resource_version, "allowWatchBookmarks": "true"}
        try:
            async with self.session.get(self.base_url + resource.path(workspace, namespace), params=params,
                                        timeout=aiohttp.ClientTimeout(total=None, sock_read=None)) as response:
                if response.status >= 400:
                    text = await response.text()
                    payload = json.loads(text) if text.startswith("{") else {}
                    error = Expired if response.status == 410 else UpstreamError
                    raise error(response.status, payload.get("message", text), payload.get("reason", ""))
                async for line in response.content:
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    if event.get("type") == "ERROR":
                        status = event.get("object") or {}
                        error = Expired if status.get("code") == 410 else UpstreamError
                        raise error(int(status.get("code") or 500), status.get("message", ""),
                                    status.get("reason", ""))
                    yield WatchEvent(event["type"], event["object"])
        except _TRANSPORT_ERRORS as exc:
            raise Unreachable(exc) from exc
