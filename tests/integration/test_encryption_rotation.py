"""Rotating the key of Secrets at rest, as with kube-apiserver: new key first, restart, rewrite the Secrets."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from controlplane.encryption import generate_config
from controlplane.etcd_embedded import EmbeddedEtcd
from controlplane.storage.etcd import EtcdStorage
from controlplane.storage.keys import object_key
from tests.conftest import ApiServer, Kubectl, start_apiserver, stop_apiserver


def raw(endpoint: str, key: str) -> bytes:
    async def read() -> bytes:
        storage = EtcdStorage([endpoint])  # no encryption config: the bytes as etcd holds them
        await storage.connect()
        try:
            kv = await storage.get(key)
            assert kv is not None
            return kv.value
        finally:
            await storage.close()

    return asyncio.run(read())


def start(data_dir: Path, etcd: EmbeddedEtcd, config: Path) -> tuple[ApiServer, Kubectl]:
    server = start_apiserver(data_dir, f"http://{etcd.endpoint}", "--encryption-provider-config", str(config))
    return server, Kubectl(server.kubeconfig_for("root", data_dir / "root.kubeconfig"), "root")


def test_rotated_key_encrypts_rewritten_secrets_and_old_ones_stay_readable(tmp_path: Path) -> None:
    etcd = EmbeddedEtcd(tmp_path / "etcd")
    asyncio.run(etcd.start())
    config = tmp_path / "encryption-config.yaml"
    config.write_text(generate_config())
    key = object_key("root", "", "secrets", "default", "db")
    try:
        server, kubectl = start(tmp_path / "canopy", etcd, config)
        try:
            kubectl("create", "secret", "generic", "db", "--from-literal=password=hunter2")
            kubectl("create", "secret", "generic", "cache", "--from-literal=password=swordfish")
        finally:
            stop_apiserver(server)
        assert raw(etcd.endpoint, key).startswith(b"k8s:enc:aesgcm:v1:key1:")

        rotated = subprocess.run([sys.executable, "-m", "controlplane.cli", "encryption", "rotate", "--config",
                                  str(config)], capture_output=True, text=True, timeout=60)
        assert rotated.returncode == 0, rotated.stderr
        assert "kubectl get secrets --all-namespaces -o json | kubectl replace -f -" in rotated.stdout

        server, kubectl = start(tmp_path / "canopy", etcd, config)
        try:
            assert kubectl("get", "secret", "db", "-o", "jsonpath={.data.password}") == "aHVudGVyMg=="
            db = kubectl("get", "secret", "db", "-o", "json")
            assert kubectl("replace", "-f", "-", input=db) == "secret/db replaced\n"
            stored = raw(etcd.endpoint, key)
            assert stored.startswith(b"k8s:enc:aesgcm:v1:key2:")
            assert b"hunter2" not in stored
            assert kubectl("get", "secret", "db", "-o", "jsonpath={.data.password}") == "aHVudGVyMg=="
            # A write that changes nothing is normally skipped; not when the value is under an old key.
            kubectl("patch", "secret", "cache", "--type=merge", "-p", "{}")
            assert raw(etcd.endpoint, object_key("root", "", "secrets", "default", "cache")).startswith(
                b"k8s:enc:aesgcm:v1:key2:"
            )
        finally:
            stop_apiserver(server)
    finally:
        asyncio.run(etcd.stop())
