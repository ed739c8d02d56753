"""An own type (the test-only Widget) served end to end: kubectl applies, lists, explains and is refused by it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

import api.types
from api.registry import BUILTIN, Registry
from api.schema import schema_for
from controlplane import kubeconfig as kubeconfigs
from controlplane.apiserver.app import create_app
from controlplane.apiserver.discovery import version_info
from controlplane.audit import AuditLog
from controlplane.etcd_embedded import free_port
from controlplane.pki import load_or_create_ca
from controlplane.server import tls_context
from controlplane.storage.etcd import EtcdStorage
from controlplane.storage.keys import object_key
from controlplane.storage.watchcache import WatchCache
from controlplane.store import Store
from tests.conftest import KUBECTL, Etcd, new_workspace_name
from tests.widget import WIDGET

WIDGET_YAML = """
apiVersion: test.canopy.dev/v1alpha1
kind: Widget
metadata:
  name: gear
spec:
  size: L
  parts:
  - name: tooth
    count: 12
"""


@pytest.fixture
async def kubeconfig(etcd: Etcd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Path]:
    monkeypatch.setattr(api.types, "OWN_TYPES", (WIDGET,))
    schema_for.cache_clear()
    storage = EtcdStorage([etcd.endpoint])
    await storage.connect()
    workspace = new_workspace_name()
    await create_workspace(storage, workspace)
    cache = WatchCache(storage)
    await cache.start()
    audit = AuditLog(tmp_path / "audit.log")
    audit.open()
    app = create_app(Store(storage, cache), Registry([*BUILTIN, WIDGET.resource]), version_info("test", "now"), audit)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    ca = load_or_create_ca(tmp_path / "pki")
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=tls_context(tmp_path / "pki", ca, ["127.0.0.1"])).start()
    path = tmp_path / "kubeconfig"
    cert, key = ca.issue_client_cert("admin", ["system:masters"])
    kubeconfigs.write(path, kubeconfigs.build(f"https://127.0.0.1:{port}/clusters/{workspace}", ca.cert_pem, "admin",
                                            cert_pem=cert, key_pem=key))
    try:
        yield path
    finally:
        await runner.cleanup()
        await audit.close()
        await cache.stop()
        await storage.close()
        schema_for.cache_clear()


async def create_workspace(storage: EtcdStorage, workspace: str) -> None:
    """What `canopy workspace create` would have stored (this test serves no Workspace type)."""
    parent, _, name = workspace.rpartition(":")
    ws = {"apiVersion": "tenancy.canopy.dev/v1alpha1", "kind": "Workspace", "metadata": {"name": name}}
    await storage.create(object_key(parent, "tenancy.canopy.dev", "workspaces", "", name), json.dumps(ws).encode())


async def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    # The server runs in this event loop: kubectl must not block it.
    proc = await asyncio.create_subprocess_exec(
        KUBECTL, "--kubeconfig", str(kubeconfig), *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin else None), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_kubectl_applies_lists_and_explains_an_own_type(kubeconfig: Path) -> None:
    code, out, err = await kubectl(kubeconfig, "apply", "-f", "-", stdin=WIDGET_YAML)
    assert (code, out) == (0, "widget.test.canopy.dev/gear created\n"), err

    code, out, err = await kubectl(kubeconfig, "get", "wd")
    assert code == 0, err
    header, row = out.splitlines()
    assert header.split() == ["NAME", "SIZE", "REPLICAS", "AGE"]
    assert row.split()[:3] == ["gear", "L", "1"]

    jsonpath = "jsonpath={.spec.parts[0].count} {.spec.replicas}"
    code, out, _ = await kubectl(kubeconfig, "get", "wd", "gear", "-o", jsonpath)
    assert out == "12 1"

    code, out, err = await kubectl(kubeconfig, "explain", "widget.spec.replicas")
    assert code == 0, err
    assert "How many widgets to make." in out


async def test_invalid_own_type_objects_are_refused_with_the_field_path(kubeconfig: Path) -> None:
    code, _, err = await kubectl(kubeconfig, "apply", "-f", "-", stdin=WIDGET_YAML.replace("count: 12", "count: 0"))
    assert code == 1
    assert 'The Widget "gear" is invalid: spec.parts[0].count: Invalid value: 0: input should be greater' in err

    code, _, err = await kubectl(kubeconfig, "apply", "-f", "-", stdin=WIDGET_YAML.replace("size: L", "sise: L"))
    assert code == 1
    assert 'unknown field "spec.sise"' in err
