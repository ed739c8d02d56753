"""Helpers shared by the integration tests: polling, kubectl tables, streaming kubectl, raw HTTP, manifests."""

from __future__ import annotations

import asyncio
import json
import queue
import re
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import yaml

from controlplane.etcd_embedded import free_port
from controlplane.storage.etcd import EtcdStorage
from tests.conftest import KUBECTL, TLS_CONTEXTS, ApiServer, Etcd, Kubectl, client_tls

T = TypeVar("T")

DEADLINE_SECONDS = 20.0


def eventually(probe: Callable[[], T | None], *, timeout: float = DEADLINE_SECONDS, what: str = "condition") -> T:
    """Poll `probe` until it returns something truthy; fail with the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    last: object = None
    while True:
        last = probe()
        if last:
            return last  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


# ---- kubectl output ---------------------------------------------------------------------------------------------

_COLUMN_GAP = re.compile(r"\s{2,}")


def cells(line: str) -> list[str]:
    """One line of a kubectl table, split into cells (cells may hold single spaces: `4 (60s ago)`)."""
    return _COLUMN_GAP.split(line.strip())


def table(output: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of one kubectl table."""
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines, f"expected a table, got {output!r}"
    return cells(lines[0]), [cells(line) for line in lines[1:]]


def table_rows_by_name(output: str) -> dict[str, dict[str, str]]:
    """{NAME: {COLUMN: cell}} for one kubectl table. A blank cell (a printer column with no value) is read by
    where the header puts its column, as kubectl aligns them."""
    lines = [line for line in output.splitlines() if line.strip()]
    header, rows = table(output)
    starts = [m.start() for m in re.finditer(r"\S+(?: \S+)*", lines[0])]
    by_name = {}
    for line, row in zip(lines[1:], rows, strict=True):
        if len(row) != len(header):
            row = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        by_name[row[0]] = dict(zip(header, row, strict=True))
    return by_name


def tables(output: str) -> list[tuple[list[str], list[list[str]]]]:
    """Several tables separated by blank lines, as `kubectl get deploy,pods,cm` prints them."""
    blocks = [b for b in re.split(r"\n\s*\n", output) if b.strip()]
    return [table(b) for b in blocks]


class KubectlStream:
    """A long-running kubectl (get -w, wait) whose stdout and stderr are read line by line as they come."""

    def __init__(self, kubectl: Kubectl, *args: str) -> None:
        self.args = args
        self.proc = subprocess.Popen(
            [KUBECTL, "--kubeconfig", str(kubectl.kubeconfig), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
        )
        self.stdout: queue.Queue[str | None] = queue.Queue()
        self.stderr: queue.Queue[str | None] = queue.Queue()
        self.seen_stdout: list[str] = []
        self.seen_stderr: list[str] = []
        for pipe, q in ((self.proc.stdout, self.stdout), (self.proc.stderr, self.stderr)):
            threading.Thread(target=self._pump, args=(pipe, q), daemon=True).start()

    @staticmethod
    def _pump(pipe: Any, q: queue.Queue[str | None]) -> None:
        for line in pipe:
            q.put(line.rstrip("\n"))
        q.put(None)

    def _expect(self, q: queue.Queue[str | None], seen: list[str], predicate: Callable[[str], bool],
                timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                line = q.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                q.put(None)  # keep reporting end-of-stream
                break
            seen.append(line)
            if predicate(line):
                return line
        raise AssertionError(
            f"kubectl {' '.join(self.args)}: no matching line within {timeout}s (exit code {self.proc.poll()})\n"
            f"stdout so far:\n" + "\n".join(self.seen_stdout) + "\nstderr so far:\n" + "\n".join(self.seen_stderr)
        )

    def expect(self, predicate: Callable[[str], bool], timeout: float = DEADLINE_SECONDS) -> str:
        """The next stdout line matching `predicate` (lines before it are kept in `seen_stdout`)."""
        return self._expect(self.stdout, self.seen_stdout, predicate, timeout)

    def expect_stderr(self, predicate: Callable[[str], bool], timeout: float = DEADLINE_SECONDS) -> str:
        return self._expect(self.stderr, self.seen_stderr, predicate, timeout)

    def wait(self, timeout: float = DEADLINE_SECONDS) -> int:
        return self.proc.wait(timeout=timeout)

    def rest_of_stdout(self) -> list[str]:
        """Every stdout line after the process ended."""
        lines = []
        while (line := self.stdout.get(timeout=DEADLINE_SECONDS)) is not None:
            lines.append(line)
        self.stdout.put(None)
        self.seen_stdout.extend(lines)
        return lines

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


@contextmanager
def kubectl_stream(kubectl: Kubectl, *args: str) -> Iterator[KubectlStream]:
    stream = KubectlStream(kubectl, *args)
    try:
        yield stream
    finally:
        stream.close()


# ---- raw HTTP ---------------------------------------------------------------------------------------------------

def workspace_url(apiserver: ApiServer, workspace: str) -> str:
    return f"{apiserver.url}/clusters/{workspace}"


def admin_tls(url: str) -> ssl.SSLContext:
    """The admin's TLS context for the test server that `url` is on."""
    return next(context for base, context in TLS_CONTEXTS.items() if url.startswith(base + "/"))


def http(method: str, url: str, body: bytes | str | dict[str, Any] | list[Any] | None = None, *,
         content_type: str = "application/json", headers: dict[str, str] | None = None,
         timeout: float = 30, tls: ssl.SSLContext | None = None, token: str = "") -> tuple[int, Any, dict[str, str]]:
    """(status, decoded JSON body or raw text, headers) of one request; errors are returned, not raised.

    As the server's admin (its client certificate) unless `tls` (another identity, or none: a context with only the
    CA) or `token` (a bearer token) say otherwise."""
    tls = tls or admin_tls(url)
    if token:
        headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
    if isinstance(body, dict | list):
        body = json.dumps(body)
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=tls) as resp:
            status, raw, hdrs = resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as err:
        status, raw, hdrs = err.code, err.read(), err.headers
    text = raw.decode(errors="replace")
    try:
        decoded: Any = json.loads(text)
    except ValueError:
        decoded = text
    return status, decoded, {k: v for k, v in hdrs.items()}


def assert_status(body: Any, code: int, reason: str) -> dict[str, Any]:
    """`body` is a `kind: Status` failure with this code and reason; returns it."""
    assert isinstance(body, dict), f"expected a kind: Status JSON body, got {body!r}"
    assert body.get("kind") == "Status", body
    assert body.get("apiVersion") == "v1", body
    assert body.get("status") == "Failure", body
    assert (body.get("code"), body.get("reason")) == (code, reason), body
    assert isinstance(body.get("message"), str) and body["message"], body
    return body


# ---- manifests --------------------------------------------------------------------------------------------------

def deployment(name: str = "web", *, replicas: int | None = None, image: str = "nginx",
               labels: dict[str, str] | None = None, container: str = "app", **spec: Any) -> dict[str, Any]:
    labels = labels or {"app": name}
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": [{"name": container, "image": image}]},
            },
            **spec,
        },
    }
    if replicas is not None:
        body["spec"]["replicas"] = replicas
    return body


def configmap(name: str, data: dict[str, str] | None = None, **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **metadata}, "data": data or {}}


def to_yaml(*objects: dict[str, Any]) -> str:
    return "---\n".join(yaml.safe_dump(o, sort_keys=False) for o in objects)


# Setup helpers: what kubectl's generator commands (`create deployment|configmap|namespace`, sent as protobuf) create,
# sent as manifests (`create -f`, JSON on the wire). test_kubectl.py covers the generator commands themselves; other
# tests set up this way so that each fails only for what it is about.

def create_deployment(kubectl: Kubectl, name: str, image: str = "nginx", *, replicas: int | None = None,
                      namespace: str = "") -> None:
    """What `kubectl create deployment NAME --image=IMAGE [--replicas=N]` creates."""
    body = deployment(name, image=image, replicas=replicas, container=image.split("/")[-1].split(":")[0])
    body["metadata"]["labels"] = {"app": name}
    ns = ("-n", namespace) if namespace else ()
    assert kubectl("create", *ns, "-f", "-", input=to_yaml(body)) == f"deployment.apps/{name} created\n"


def create_configmap(kubectl: Kubectl, name: str, *, namespace: str = "", **data: str) -> None:
    """What `kubectl create configmap NAME --from-literal=K=V...` creates."""
    body = configmap(name, data or None)
    if not data:
        del body["data"]
    ns = ("-n", namespace) if namespace else ()
    assert kubectl("create", *ns, "-f", "-", input=to_yaml(body)) == f"configmap/{name} created\n"


def create_namespace(kubectl: Kubectl, name: str) -> None:
    """What `kubectl create namespace NAME` creates."""
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    assert kubectl("create", "-f", "-", input=to_yaml(body)) == f"namespace/{name} created\n"


# ---- extra servers ----------------------------------------------------------------------------------------------



# ---- the platform admin's tools, and etcd as it is ---------------------------------------------------------------

def canopy(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The `canopy` command line, as the platform admin runs it."""
    result = subprocess.run([sys.executable, "-m", "controlplane.cli", *args], capture_output=True, text=True,
                            timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"canopy {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def mint(apiserver: ApiServer, workspace: str, user: str, path: Path) -> Kubectl:
    """kubectl with a kubeconfig for `user` in `workspace`, minted by `canopy kubeconfig`."""
    canopy("kubeconfig", "--kubeconfig", str(apiserver.admin_kubeconfig), "--workspace", workspace, "--user", user,
           "-o", str(path))
    return Kubectl(path, workspace)


def etcd_keys(etcd: Etcd, prefix: str) -> list[str]:
    """Every key under `prefix`, read from etcd itself."""
    async def read() -> list[str]:
        storage = EtcdStorage([etcd.endpoint])
        await storage.connect()
        try:
            kvs, _, _ = await storage.range(prefix)
            return [kv.key for kv in kvs]
        finally:
            await storage.close()

    return asyncio.run(read())


@contextmanager
def standalone_server(data_dir: Path, *flags: str, port: int | None = None) -> Iterator[ApiServer]:
    """A `canopy server` with its own embedded etcd (so that it, not the session's server, runs the controllers),
    started with `flags`; stopped on exit. Started with `data_dir` and `port` again, it is the same server after a
    restart."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "controlplane.cli", "server", "--data-dir", str(data_dir), "--port", str(port), *flags],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"https://127.0.0.1:{port}"

    def ready() -> bool:
        assert process.poll() is None, (data_dir / "server.log").read_text()
        if not (data_dir / "admin.kubeconfig").exists():
            return False
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1, context=client_tls(data_dir / "pki" / "ca.crt")):
                return True
        except OSError:
            return False

    try:
        eventually(ready, timeout=60, what="a standalone server")
        pki = data_dir / "pki"
        TLS_CONTEXTS[url] = client_tls(pki / "ca.crt", pki / "admin.crt", pki / "admin.key")
        yield ApiServer(url, data_dir, process)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
