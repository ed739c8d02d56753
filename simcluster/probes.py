"""One probe of a running container, as the kubelet's prober does it, and what it reports. Pure.

The result's `output` is what the kubelet puts after "<Kind> probe failed: " in its `Unhealthy` event, worded as
the Kubernetes probers word it (pkg/probe/http, pkg/probe/tcp, pkg/probe/grpc, pkg/probe/exec):

* httpGet: a 2xx or 3xx answer succeeds; another is `HTTP probe failed with statuscode: 404`; nothing listening
  is Go's client error, `Get "http://10.42.0.5:8080/healthz": dial tcp 10.42.0.5:8080: connect: connection
  refused`; a server that does not speak HTTP closes the connection (`Get "...": EOF`), and an HTTPS probe of an
  HTTP server gets `http: server gave HTTP response to HTTPS client`.
* tcpSocket: `dial tcp 10.42.0.5:5432: connect: connection refused` until something listens.
* grpc: nothing listening times out connecting; a listening server that is not a gRPC health server fails the
  health RPC.
* exec: the command runs in the container (simcluster.programs interprets it against the container's files and
  servers at that moment); a non-zero status fails with its combined output, verbatim (trailing newline included,
  as kubectl describe trims it). A command that outlives timeoutSeconds fails with `command "..." timed out`.

A probe the kubelet cannot even run, such as an exec of a program the image lacks or a named port the container
does not declare, is not a failure but an error: the kubelet records `<Kind> probe errored and resulted in
unknown state: <err>` and throws the result away, so it never counts towards failureThreshold (nor makes the
container ready). `ProbeResult.errored` says so; `output` is then `<err>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simcluster import programs
from simcluster.podconfig import expand
from simcluster.programs import Run

# What the kubelet uses when a field is left out (k8s.io/api/core/v1 defaults).
DEFAULT_INITIAL_DELAY_SECONDS = 0.0
DEFAULT_PERIOD_SECONDS = 10.0
DEFAULT_FAILURE_THRESHOLD = 3
DEFAULT_SUCCESS_THRESHOLD = 1
DEFAULT_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class ProbeResult:
    success: bool
    output: str  # for a failure, the text after "Liveness probe failed: " in the kubelet's Unhealthy event
    errored: bool = False  # could not run: "<Kind> probe errored and resulted in unknown state: <output>", ignored


def probe_timing(probe: Mapping[str, Any]) -> tuple[float, float, int, int, float]:
    """(initialDelaySeconds, periodSeconds, failureThreshold, successThreshold, timeoutSeconds), defaulted."""
    return (
        float(probe.get("initialDelaySeconds") or DEFAULT_INITIAL_DELAY_SECONDS),
        float(probe.get("periodSeconds") or DEFAULT_PERIOD_SECONDS),
        int(probe.get("failureThreshold") or DEFAULT_FAILURE_THRESHOLD),
        int(probe.get("successThreshold") or DEFAULT_SUCCESS_THRESHOLD),
        float(probe.get("timeoutSeconds") or DEFAULT_TIMEOUT_SECONDS),
    )


def check(probe: Mapping[str, Any], container: Mapping[str, Any], run: Run, elapsed: float,
          pod_ip: str) -> ProbeResult:
    """Probe the container `elapsed` seconds after it started."""
    timeout = probe_timing(probe)[4]
    if probe.get("exec") is not None:
        return _exec(probe["exec"], container, run, elapsed, timeout)
    if probe.get("httpGet") is not None:
        return _http(probe["httpGet"], container, run, elapsed, pod_ip)
    if probe.get("tcpSocket") is not None:
        return _tcp(probe["tcpSocket"], container, run, elapsed, pod_ip)
    if probe.get("grpc") is not None:
        return _grpc(probe["grpc"], run, elapsed, pod_ip, timeout)
    return ProbeResult(True, "")  # no handler: the API rejects it; nothing to probe


def _port(value: Any, container: Mapping[str, Any]) -> int | str:
    """The port number, resolving a name against the container's declared ports. A name it does not declare is
    tried as a number as a last resort, so the error is strconv's."""
    if isinstance(value, int):
        return value
    text = str(value)
    if text.isdigit():
        return int(text)
    for port in container.get("ports") or []:
        if port.get("name") == text:
            return int(port["containerPort"])
    return f'strconv.Atoi: parsing "{text}": invalid syntax'


def _host(handler: Mapping[str, Any], pod_ip: str) -> str:
    return str(handler.get("host") or pod_ip)


def _reaches(host: str, pod_ip: str) -> bool:
    """Whether the probe's address is the pod's: the kubelet probes from the node, so a `host` such as
    localhost is the node itself, where the container's servers are not."""
    return host == pod_ip


def _listening(run: Run, elapsed: float, port: int) -> programs.Server | None:
    return next((s for s in run.servers if s.listening(elapsed, port)), None)


def _http(handler: Mapping[str, Any], container: Mapping[str, Any], run: Run, elapsed: float,
          pod_ip: str) -> ProbeResult:
    port = _port(handler.get("port"), container)
    if isinstance(port, str):
        return ProbeResult(False, port, errored=True)
    host = _host(handler, pod_ip)
    scheme = str(handler.get("scheme") or "HTTP").lower()
    path = str(handler.get("path") or "")
    if path and not path.startswith("/"):
        path = "/" + path
    url = f"{scheme}://{host}:{port}{path}"
    server = _listening(run, elapsed, port) if _reaches(host, pod_ip) else None
    if server is None:
        return ProbeResult(False, f'Get "{url}": dial tcp {host}:{port}: connect: connection refused')
    if port not in server.http_ports:
        return ProbeResult(False, f'Get "{url}": EOF')
    if scheme == "https":
        return ProbeResult(False, f'Get "{url}": http: server gave HTTP response to HTTPS client')
    if server.unhealthy_after is not None and elapsed >= server.unhealthy_after:
        return ProbeResult(False, "HTTP probe failed with statuscode: 500")
    bare = path.split("?", 1)[0] or "/"
    if bare in server.http_paths or "*" in server.http_paths:
        return ProbeResult(True, "")
    return ProbeResult(False, "HTTP probe failed with statuscode: 404")


def _tcp(handler: Mapping[str, Any], container: Mapping[str, Any], run: Run, elapsed: float,
         pod_ip: str) -> ProbeResult:
    port = _port(handler.get("port"), container)
    if isinstance(port, str):
        return ProbeResult(False, port, errored=True)
    host = _host(handler, pod_ip)
    if _reaches(host, pod_ip) and _listening(run, elapsed, port) is not None:
        return ProbeResult(True, "")
    return ProbeResult(False, f"dial tcp {host}:{port}: connect: connection refused")


def _grpc(handler: Mapping[str, Any], run: Run, elapsed: float, pod_ip: str, timeout: float) -> ProbeResult:
    port = int(handler.get("port") or 0)
    address = f"{pod_ip}:{port}"
    if _listening(run, elapsed, port) is None:
        return ProbeResult(False, f'timeout: failed to connect service "{address}" within {_go_duration(timeout)}: '
                           "context deadline exceeded")
    return ProbeResult(False, "error: health rpc probe failed: rpc error: code = Unavailable desc = connection "
                       "closed before server preface received")


def _go_duration(seconds: float) -> str:
    whole = int(seconds)
    if seconds == whole:
        minutes, rest = divmod(whole, 60)
        return f"{minutes}m{rest}s" if minutes else f"{rest}s"
    return f"{seconds:g}s"


def _exec(handler: Mapping[str, Any], container: Mapping[str, Any], run: Run, elapsed: float,
          timeout: float) -> ProbeResult:
    # The kubelet expands $(VAR) in an exec probe's command from the container's literal env values only.
    static = {e["name"]: str(e["value"]) for e in container.get("env") or [] if "value" in e and "name" in e}
    command = [expand(str(arg), static) for arg in handler.get("command") or []]
    result = programs.exec_in(run, command, elapsed)
    if result.error:
        return ProbeResult(False, f"rpc error: code = Unknown desc = {result.error}", errored=True)
    if result.seconds > timeout:
        return ProbeResult(False, f'command "{" ".join(command)}" timed out')
    return ProbeResult(result.status == 0, result.output)
