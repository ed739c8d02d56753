"""When etcd goes away, requests fail with a Status that says so, and the server recovers when etcd returns."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from controlplane.etcd_embedded import EmbeddedEtcd
from tests.conftest import start_apiserver, stop_apiserver


def get(url: str, tls: ssl.SSLContext) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=60, context=tls) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.timeout(180)
def test_reads_fail_with_a_clear_status_while_etcd_is_down_and_work_again_after(tmp_path: Path) -> None:
    etcd = EmbeddedEtcd(tmp_path / "etcd")
    asyncio.run(etcd.start())
    server = start_apiserver(tmp_path / "canopy", f"http://{etcd.endpoint}")
    try:
        url = f"{server.url}/api/v1/namespaces/default/configmaps"
        assert get(url, server.admin_tls)[0] == 200
        asyncio.run(etcd.stop())

        status, body = get(url, server.admin_tls)
        assert status in (503, 504), body
        assert body["kind"] == "Status"
        assert "etcd" in body["message"]
        assert server.process.poll() is None  # still serving

        restarted = EmbeddedEtcd(tmp_path / "etcd", client_port=etcd.client_port, peer_port=etcd.peer_port)
        asyncio.run(restarted.start())
        try:
            deadline = time.monotonic() + 60
            while get(url, server.admin_tls)[0] != 200:
                assert time.monotonic() < deadline, "the server did not recover after etcd came back"
                time.sleep(0.5)
        finally:
            asyncio.run(restarted.stop())
    finally:
        stop_apiserver(server)
