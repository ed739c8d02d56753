"""Probes of a running container and what the kubelet reports for them (Kubernetes 1.32).

Wording from pkg/probe/http (`HTTP probe failed with statuscode: N`, Go's client errors for refused
connections), pkg/probe/tcp (`dial tcp ...: connect: connection refused`), pkg/probe/grpc, pkg/probe/exec
(the command's combined output) and pkg/kubelet/prober (defaults, `errored and resulted in unknown state`).
"""

from __future__ import annotations

from typing import Any

import pytest

from simcluster import images, programs
from simcluster.probes import ProbeResult, check, probe_timing
from simcluster.programs import Run

IP = "10.42.0.7"
WEB = {"name": "web", "image": "nginx:1.27", "ports": [{"name": "http", "containerPort": 80}]}


def start(reference: str, container: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Run:
    pulled = images.pull(reference)
    assert isinstance(pulled, images.Pulled)
    return programs.run(pulled.image, container or {}, env or {}, None)


@pytest.fixture(scope="module")
def nginx() -> Run:
    return start("nginx:1.27", WEB)


def http(path: str | None, port: int | str, **extra: Any) -> dict[str, Any]:
    handler: dict[str, Any] = {"port": port, **extra}
    if path is not None:
        handler["path"] = path
    return {"httpGet": handler}


# ---- timing ----------------------------------------------------------------------------------------------------


def test_timing_defaults_are_the_apis() -> None:
    assert probe_timing({"httpGet": {"port": 80}}) == (0.0, 10.0, 3, 1, 1.0)


def test_timing_as_written() -> None:
    probe = {"initialDelaySeconds": 5, "periodSeconds": 2, "failureThreshold": 1, "successThreshold": 2,
             "timeoutSeconds": 3}
    assert probe_timing(probe) == (5.0, 2.0, 1, 2, 3.0)


# ---- httpGet ---------------------------------------------------------------------------------------------------


def test_http_succeeds_on_a_served_path_once_started(nginx: Run) -> None:
    assert check(http("/", 80), WEB, nginx, 1.0, IP) == ProbeResult(True, "")


def test_http_before_start_up_is_refused(nginx: Run) -> None:
    assert check(http("/", 80), WEB, nginx, 0.1, IP) == ProbeResult(
        False, f'Get "http://{IP}:80/": dial tcp {IP}:80: connect: connection refused')


def test_http_on_a_path_the_server_lacks_is_a_404(nginx: Run) -> None:
    assert check(http("/healthz", 80), WEB, nginx, 1.0, IP) == ProbeResult(
        False, "HTTP probe failed with statuscode: 404")


def test_http_on_a_port_nothing_listens_on_is_refused(nginx: Run) -> None:
    assert check(http("/", 8080), WEB, nginx, 60.0, IP).output == (
        f'Get "http://{IP}:8080/": dial tcp {IP}:8080: connect: connection refused')


def test_http_on_a_named_port(nginx: Run) -> None:
    assert check(http("/", "http"), WEB, nginx, 1.0, IP).success


def test_http_on_a_port_name_the_container_does_not_declare_errors(nginx: Run) -> None:
    result = check(http("/", "web"), WEB, nginx, 1.0, IP)
    assert result == ProbeResult(False, 'strconv.Atoi: parsing "web": invalid syntax', errored=True)


def test_http_port_given_as_a_numeric_string(nginx: Run) -> None:
    assert check(http("/", "80"), WEB, nginx, 1.0, IP).success


def test_http_without_a_path_asks_for_the_bare_host(nginx: Run) -> None:
    assert check(http(None, 8080), WEB, nginx, 1.0, IP).output.startswith(f'Get "http://{IP}:8080": ')


def test_http_path_without_its_slash_gets_one(nginx: Run) -> None:
    assert check(http("healthz", 8080), WEB, nginx, 1.0, IP).output.startswith(f'Get "http://{IP}:8080/healthz"')


def test_http_query_string_is_not_part_of_the_path(nginx: Run) -> None:
    assert check(http("/?probe=1", 80), WEB, nginx, 1.0, IP).success


def test_https_to_a_plain_http_server(nginx: Run) -> None:
    assert check(http("/", 80, scheme="HTTPS"), WEB, nginx, 1.0, IP).output == (
        f'Get "https://{IP}:80/": http: server gave HTTP response to HTTPS client')


def test_http_with_another_host_goes_elsewhere(nginx: Run) -> None:
    assert check(http("/", 80, host="127.0.0.1"), WEB, nginx, 1.0, IP).output == (
        'Get "http://127.0.0.1:80/": dial tcp 127.0.0.1:80: connect: connection refused')


def test_http_to_a_server_that_does_not_speak_http() -> None:
    redis = start("redis:7.4")
    assert check(http("/", 6379), {}, redis, 1.0, IP).output == f'Get "http://{IP}:6379/": EOF'


def test_agnhost_liveness_answers_500_after_10_seconds() -> None:
    run = start("registry.k8s.io/e2e-test-images/agnhost:2.40", {"args": ["liveness"]})
    assert check(http("/healthz", 8080), {}, run, 5.0, IP).success
    assert check(http("/healthz", 8080), {}, run, 10.5, IP).output == "HTTP probe failed with statuscode: 500"


def test_http_to_a_container_that_is_not_a_server_is_refused() -> None:
    run = start("busybox:1.36", {"command": ["sleep", "3600"]})
    assert not check(http("/", 80), {}, run, 5.0, IP).success


def test_agnhost_netexec_healthz() -> None:
    run = start("registry.k8s.io/e2e-test-images/agnhost:2.40", {"args": ["netexec", "--http-port=8080"]})
    assert check(http("/healthz", 8080), {}, run, 1.0, IP).success


# ---- tcpSocket and grpc ----------------------------------------------------------------------------------------


def test_tcp_succeeds_once_listening_and_is_refused_before() -> None:
    postgres = start("postgres:16", env={"POSTGRES_PASSWORD": "x"})
    probe = {"tcpSocket": {"port": 5432}}
    assert check(probe, {}, postgres, 1.0, IP) == ProbeResult(False, f"dial tcp {IP}:5432: connect: connection refused")
    assert check(probe, {}, postgres, 4.0, IP).success


def test_tcp_on_a_named_port(nginx: Run) -> None:
    assert check({"tcpSocket": {"port": "http"}}, WEB, nginx, 1.0, IP).success


def test_grpc_with_nothing_listening_times_out_connecting(nginx: Run) -> None:
    probe = {"grpc": {"port": 9090}, "timeoutSeconds": 3}
    assert check(probe, WEB, nginx, 1.0, IP).output == (
        f'timeout: failed to connect service "{IP}:9090" within 3s: context deadline exceeded')


def test_grpc_to_a_server_that_is_not_grpc_fails_the_health_rpc(nginx: Run) -> None:
    result = check({"grpc": {"port": 80}}, WEB, nginx, 1.0, IP)
    assert not result.success and result.output.startswith("error: health rpc probe failed: rpc error: code = ")


# ---- exec ------------------------------------------------------------------------------------------------------


CLASSIC = {"name": "liveness", "command": ["sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"]}
CAT = {"exec": {"command": ["cat", "/tmp/healthy"]}}


def test_the_classic_exec_probe_succeeds_then_fails_with_busyboxs_cat_message() -> None:
    run = start("busybox:1.36", CLASSIC)
    assert check(CAT, CLASSIC, run, 5.0, IP).success
    assert check(CAT, CLASSIC, run, 35.0, IP) == ProbeResult(
        False, "cat: can't open '/tmp/healthy': No such file or directory\n")


def test_the_same_probe_in_a_debian_image_says_it_as_coreutils_does() -> None:
    run = start("nginx:1.27", CLASSIC)
    assert check(CAT, CLASSIC, run, 35.0, IP).output == "cat: /tmp/healthy: No such file or directory\n"


@pytest.mark.parametrize(("command", "success", "output"), [
    (["true"], True, ""), (["false"], False, ""), (["sh", "-c", "exit 3"], False, ""),
    (["sh", "-c", "echo not ready; exit 1"], False, "not ready\n"), (["test", "-f", "/etc/hostname"], True, ""),
])
def test_exec_status_decides(command: list[str], success: bool, output: str, nginx: Run) -> None:
    assert check({"exec": {"command": command}}, WEB, nginx, 1.0, IP) == ProbeResult(success, output)


def test_exec_of_a_program_the_image_lacks_errors() -> None:
    run = start("busybox:1.36", CLASSIC)
    result = check({"exec": {"command": ["pg_isready"]}}, CLASSIC, run, 1.0, IP)
    assert result.errored and not result.success
    assert result.output.startswith('rpc error: code = Unknown desc = failed to exec in container: failed to start '
                                    'exec "')
    assert result.output.endswith('exec: "pg_isready": executable file not found in $PATH: unknown')


def test_exec_that_outlives_its_timeout_fails() -> None:
    probe = {"exec": {"command": ["sleep", "5"]}, "timeoutSeconds": 2}
    assert check(probe, {}, start("busybox:1.36", CLASSIC), 1.0, IP).output == 'command "sleep 5" timed out'


def test_exec_within_its_timeout_succeeds() -> None:
    probe = {"exec": {"command": ["sleep", "1"]}, "timeoutSeconds": 2}
    assert check(probe, {}, start("busybox:1.36", CLASSIC), 1.0, IP).success


def test_pg_isready_succeeds_once_postgres_accepts_connections() -> None:
    run = start("postgres:16", env={"POSTGRES_PASSWORD": "x"})
    probe = {"exec": {"command": ["pg_isready", "-U", "postgres"]}}
    assert check(probe, {}, run, 1.0, IP) == ProbeResult(False, "/var/run/postgresql:5432 - no response\n")
    assert check(probe, {}, run, 4.0, IP) == ProbeResult(True, "/var/run/postgresql:5432 - accepting connections\n")


def test_redis_cli_ping() -> None:
    run = start("redis:7.4")
    assert check({"exec": {"command": ["redis-cli", "ping"]}}, {}, run, 1.0, IP) == ProbeResult(True, "PONG\n")


def test_exec_command_expands_the_containers_literal_env() -> None:
    container = {**CLASSIC, "env": [{"name": "MARKER", "value": "/tmp/healthy"},
                                    {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}
    run = start("busybox:1.36", container)
    assert check({"exec": {"command": ["cat", "$(MARKER)"]}}, container, run, 5.0, IP).success
    assert check({"exec": {"command": ["cat", "$(FROM_SECRET)"]}}, container, run, 5.0, IP).output == (
        "cat: can't open '$(FROM_SECRET)': No such file or directory\n")


def test_exec_shell_sees_the_container_environment() -> None:
    run = start("busybox:1.36", {"command": ["sleep", "3600"]}, env={"READY_FILE": "/etc/hostname"})
    assert check({"exec": {"command": ["sh", "-c", 'test -f "$READY_FILE"']}}, {}, run, 1.0, IP).success


def test_curl_from_inside_reaches_the_containers_server(nginx: Run) -> None:
    probe = {"exec": {"command": ["curl", "-fsS", "http://localhost:80/healthz"]}}
    assert check(probe, WEB, nginx, 1.0, IP) == ProbeResult(
        False, "curl: (22) The requested URL returned error: 404\n")


def test_a_probe_without_a_handler_succeeds(nginx: Run) -> None:
    assert check({"periodSeconds": 5}, WEB, nginx, 1.0, IP).success
