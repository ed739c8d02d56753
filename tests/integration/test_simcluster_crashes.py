"""Every crash class of the crash catalog, produced by an ordinary manifest applied with kubectl to a simulated
cluster, and read back as a user reads it: `kubectl get pods`, `kubectl describe pod`, `kubectl logs --previous`.

The cluster runs at time scale 0.01: a 10 s back-off takes 0.1 s, yet every message still says 10s.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.simsupport import SimCluster, simulated_cluster
from tests.integration.support import KubectlStream, eventually, table_rows_by_name

WAIT = 60.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimCluster]:
    with simulated_cluster(tmp_path_factory.mktemp("crashes"), node_memory="2Gi", time_scale=0.01) as sim:
        sim.kubectl("create", "namespace", "crash")
        yield sim


def pod_manifest(name: str, container: str, *, restart_policy: str = "Always") -> str:
    return textwrap.dedent(f"""\
        apiVersion: v1
        kind: Pod
        metadata:
          name: {name}
          namespace: crash
          labels: {{app: {name}}}
        spec:
          restartPolicy: {restart_policy}
          containers:
        """) + textwrap.indent(textwrap.dedent(container), "  ")


def apply(cluster: SimCluster, manifest: str) -> None:
    cluster.kubectl("apply", "-f", "-", input=manifest)


def pod(cluster: SimCluster, name: str) -> dict[str, Any]:
    return json.loads(cluster.kubectl("get", "pod", name, "-n", "crash", "-o", "json"))


def row(cluster: SimCluster, name: str) -> dict[str, str]:
    return table_rows_by_name(cluster.kubectl("get", "pods", name, "-n", "crash"))[name]


def describe(cluster: SimCluster, name: str) -> str:
    return cluster.kubectl("describe", "pod", name, "-n", "crash")


def restarts(cluster: SimCluster, name: str) -> int:
    return int(row(cluster, name)["RESTARTS"].split()[0])


def wait_for_status(cluster: SimCluster, name: str, status: str, *, min_restarts: int = 0) -> dict[str, str]:
    def seen() -> dict[str, str] | None:
        current = row(cluster, name)
        return current if current["STATUS"] == status and restarts(cluster, name) >= min_restarts else None

    return eventually(seen, timeout=WAIT, what=f"pod {name} {status} with {min_restarts}+ restarts")


def events(described: str) -> list[tuple[str, str, str]]:
    """(type, reason, message) of each row of describe's Events table, in order."""
    out: list[tuple[str, str, str]] = []
    in_events = False
    for line in described.splitlines():
        if line.startswith("Events:"):
            in_events = True
            continue
        if not in_events or not line.strip() or line.strip().startswith(("Type", "----")):
            continue
        parts = re.split(r"\s{2,}", line.strip(), maxsplit=4)
        if len(parts) == 5:
            out.append((parts[0], parts[1], parts[4]))
    return out


def reasons(described: str) -> list[str]:
    return [reason for _, reason, _ in events(described)]


def last_state(described: str) -> dict[str, str]:
    """The `Last State` block of describe's (single) container, as {field: value}."""
    lines = described.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Last State:"))
    block = {"Last State": lines[start].split(":", 1)[1].strip()}
    for line in lines[start + 1:]:
        if not line.startswith(" " * 6) or line.strip().startswith(("Ready:", "Restart Count:")):
            break
        key, _, value = line.strip().partition(":")
        block[key.strip()] = value.strip()
    return block


def described_field(described: str, name: str) -> str:
    for line in described.splitlines():
        if line.strip().startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {name} in:\n{described}")


# ---- the crash classes ---------------------------------------------------------------------------------------

def test_a_process_that_finishes_under_restart_always_loops_completed_then_crash_loop_back_off(
        cluster: SimCluster) -> None:
    apply(cluster, pod_manifest("finishes", """\
        - name: main
          image: busybox:1.36
          command: ["sh", "-c", "echo all work done"]
        """))
    wait_for_status(cluster, "finishes", "CrashLoopBackOff", min_restarts=2)
    described = describe(cluster, "finishes")
    assert described_field(described, "State") == "Waiting"
    assert described_field(described, "Reason") == "CrashLoopBackOff"
    block = last_state(described)
    assert block["Last State"] == "Terminated"
    assert block["Reason"] == "Completed"
    assert block["Exit Code"] == "0"
    assert described_field(described, "Ready") == "False"
    assert pod(cluster, "finishes")["status"]["phase"] == "Running"
    seen = reasons(described)
    assert seen[0] == "Scheduled"
    assert {"Pulling", "Pulled", "Created", "Started", "BackOff"} <= set(seen)
    backoff = next(m for t, r, m in events(described) if r == "BackOff")
    uid = pod(cluster, "finishes")["metadata"]["uid"]
    assert backoff == f"Back-off restarting failed container main in pod finishes_crash({uid})"
    assert cluster.kubectl("logs", "finishes", "-n", "crash", "--previous").strip() == "all work done"


def test_an_application_error_exits_1_with_its_last_words_in_the_previous_log(cluster: SimCluster) -> None:
    apply(cluster, pod_manifest("app-error", """\
        - name: app
          image: busybox:1.36
          command: ["sh", "-c", "echo connecting to db; echo 'fatal: cannot reach db:5432' >&2; exit 1"]
        """))
    wait_for_status(cluster, "app-error", "CrashLoopBackOff", min_restarts=2)
    block = last_state(describe(cluster, "app-error"))
    assert (block["Reason"], block["Exit Code"]) == ("Error", "1")
    previous = cluster.kubectl("logs", "app-error", "-n", "crash", "--previous")
    assert "connecting to db" in previous
    assert "fatal: cannot reach db:5432" in previous


@pytest.mark.parametrize(("name", "image", "command", "exit_code"), [
    ("exit-255", "busybox:1.36", ["sh", "-c", "exit 255"], "255"),
    # A native crash: the kernel kills python with SIGSEGV.
    ("segfault", "python:3.13", ["python3", "-c", "import ctypes; ctypes.string_at(0)"], "139"),
    # PID 1 cannot be signalled by itself; its child can, and the shell passes the child's status on.
    ("sigterm", "busybox:1.36", ["sh", "-c", "sleep 60 & kill -TERM $!; wait $!"], "143"),
])
def test_exit_codes_from_ordinary_manifests(cluster: SimCluster, name: str, image: str, command: list[str],
                                            exit_code: str) -> None:
    apply(cluster, pod_manifest(name, f"""\
        - name: app
          image: {image}
          command: {json.dumps(command)}
        """))
    wait_for_status(cluster, name, "CrashLoopBackOff", min_restarts=1)
    block = last_state(describe(cluster, name))
    assert (block["Reason"], block["Exit Code"]) == ("Error", exit_code)


def test_a_container_over_its_memory_limit_is_oom_killed_with_137(cluster: SimCluster) -> None:
    apply(cluster, pod_manifest("oom", """\
        - name: stress
          image: polinux/stress
          command: ["stress"]
          args: ["--vm", "1", "--vm-bytes", "250M", "--vm-hang", "1"]
          resources:
            requests: {memory: 50Mi}
            limits: {memory: 100Mi}
        """))
    wait_for_status(cluster, "oom", "CrashLoopBackOff", min_restarts=2)
    block = last_state(describe(cluster, "oom"))
    assert (block["Reason"], block["Exit Code"]) == ("OOMKilled", "137")
    status = pod(cluster, "oom")["status"]["containerStatuses"][0]
    assert status["lastState"]["terminated"]["reason"] == "OOMKilled"
    node = pod(cluster, "oom")["spec"]["nodeName"]
    node_events = cluster.kubectl("get", "events", "-n", "default", "--field-selector",
                                  f"involvedObject.kind=Node,involvedObject.name={node},reason=OOMKilling")
    assert re.search(r"Memory cgroup out of memory: Killed process \d+ \(stress\)", node_events), node_events


def test_a_command_missing_from_the_image_cannot_start(cluster: SimCluster) -> None:
    apply(cluster, pod_manifest("no-binary", """\
        - name: app
          image: nginx:1.27
          command: ["gunicorn", "app:main"]
        """))
    wait_for_status(cluster, "no-binary", "CrashLoopBackOff", min_restarts=1)
    described = describe(cluster, "no-binary")
    block = last_state(described)
    assert (block["Reason"], block["Exit Code"]) == ("StartError", "128")
    failed = [m for _, r, m in events(described) if r == "Failed"]
    assert any('exec: "gunicorn": executable file not found in $PATH' in m for m in failed), failed


def test_a_segfaulting_child_of_a_shell_leaves_its_last_words(cluster: SimCluster) -> None:
    # `$$$$` is how a manifest writes the shell's `$$` (the kubelet turns `$$` into `$`).
    apply(cluster, pod_manifest("segfault-sh", """\
        - name: native
          image: busybox:1.36
          command: ["sh", "-c", "echo loading native extension; sh -c 'kill -SEGV $$$$'; exit $?"]
        """))
    wait_for_status(cluster, "segfault-sh", "CrashLoopBackOff", min_restarts=1)
    block = last_state(describe(cluster, "segfault-sh"))
    assert (block["Reason"], block["Exit Code"]) == ("Error", "139")
    previous = cluster.kubectl("logs", "segfault-sh", "-n", "crash", "--previous")
    assert "loading native extension" in previous
    assert "Segmentation fault" in previous


def test_a_failing_liveness_probe_kills_and_restarts_the_container(cluster: SimCluster) -> None:
    apply(cluster, pod_manifest("liveness", """\
        - name: web
          image: nginx:1.27
          livenessProbe:
            httpGet: {path: /healthz, port: 80}
            periodSeconds: 5
            failureThreshold: 3
        """))
    eventually(lambda: restarts(cluster, "liveness") >= 2, timeout=WAIT, what="liveness restarts")
    described = describe(cluster, "liveness")
    messages = [(r, m) for _, r, m in events(described)]
    assert ("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 404") in messages
    assert ("Killing", "Container web failed liveness probe, will be restarted") in messages
    unhealthy = [line for line in described.splitlines() if "Liveness probe failed" in line]
    assert re.search(r"\(x\d+ over", unhealthy[0]), "repeated probe failures are folded into one event"


def test_a_probe_on_the_wrong_port_is_refused(cluster: SimCluster) -> None:
    apply(cluster, pod_manifest("wrong-port", """\
        - name: web
          image: nginx:1.27
          readinessProbe:
            httpGet: {path: /, port: 8080}
            periodSeconds: 5
        """))
    def refused() -> str | None:
        described = describe(cluster, "wrong-port")
        return described if "connect: connection refused" in described else None

    described = eventually(refused, timeout=WAIT, what="readiness probe refused")
    ip = pod(cluster, "wrong-port")["status"]["podIP"]
    assert (f'Readiness probe failed: Get "http://{ip}:8080/": dial tcp {ip}:8080: connect: connection refused'
            in [m for _, _, m in events(described)])
    current = row(cluster, "wrong-port")
    assert (current["READY"], current["STATUS"], current["RESTARTS"]) == ("0/1", "Running", "0")


def test_an_unknown_tag_fails_to_pull_then_backs_off(cluster: SimCluster) -> None:
    apply(cluster, pod_manifest("bad-tag", """\
        - name: web
          image: nginx:1.2x
        """))
    wait_for_status(cluster, "bad-tag", "ImagePullBackOff")
    described = describe(cluster, "bad-tag")
    seen = [(t, r, m) for t, r, m in events(described)]
    assert ("Normal", "Pulling", 'Pulling image "nginx:1.2x"') in seen
    failed = [m for t, r, m in seen if r == "Failed"]
    assert any(m.startswith('Failed to pull image "nginx:1.2x": ') for m in failed)
    assert "Error: ErrImagePull" in failed
    assert "Error: ImagePullBackOff" in failed
    assert ("Normal", "BackOff", 'Back-off pulling image "nginx:1.2x"') in seen
    assert pod(cluster, "bad-tag")["status"]["phase"] == "Pending"
    logs = cluster.kubectl.run("logs", "bad-tag", "-n", "crash", check=False)
    assert logs.returncode == 1
    assert logs.stderr in (
        'Error from server (BadRequest): container "web" in pod "bad-tag" is waiting to start: trying and failing '
        "to pull image\n",
        'Error from server (BadRequest): container "web" in pod "bad-tag" is waiting to start: image can\'t be '
        "pulled\n",
    )


def test_a_missing_configmap_in_env_blocks_the_start_until_it_appears(cluster: SimCluster) -> None:
    apply(cluster, pod_manifest("needs-config", """\
        - name: app
          image: nginx:1.27
          env:
          - name: MODE
            valueFrom:
              configMapKeyRef: {name: app-settings, key: mode}
        """))
    wait_for_status(cluster, "needs-config", "CreateContainerConfigError")
    described = describe(cluster, "needs-config")
    assert ("Warning", "Failed", 'Error: configmap "app-settings" not found') in events(described)
    assert pod(cluster, "needs-config")["status"]["phase"] == "Pending"
    cluster.kubectl("create", "configmap", "app-settings", "-n", "crash", "--from-literal=other=1")
    eventually(lambda: "couldn't find key mode in ConfigMap crash/app-settings" in describe(cluster, "needs-config"),
               timeout=WAIT, what="the missing key reported")
    cluster.kubectl("create", "configmap", "app-settings", "-n", "crash", "--from-literal=mode=fast",
                    "--dry-run=client", "-o", "yaml")
    cluster.kubectl("patch", "configmap", "app-settings", "-n", "crash", "-p", '{"data": {"mode": "fast"}}')
    wait_for_status(cluster, "needs-config", "Running")


def test_a_missing_secret_volume_keeps_the_pod_container_creating_until_it_appears(cluster: SimCluster) -> None:
    apply(cluster, pod_manifest("needs-secret", """\
        - name: app
          image: nginx:1.27
          volumeMounts:
          - {name: tls, mountPath: /etc/tls}
        volumes:
        - name: tls
          secret: {secretName: web-tls}
        """).replace("\n  volumes:", "\n  volumes:"))
    described = eventually(
        lambda: (d := describe(cluster, "needs-secret")) and "FailedMount" in d and d, timeout=WAIT,
        what="FailedMount event")
    assert ("Warning", "FailedMount", 'MountVolume.SetUp failed for volume "tls" : secret "web-tls" not found') in (
        events(described))
    assert row(cluster, "needs-secret")["STATUS"] == "ContainerCreating"
    cluster.kubectl("create", "secret", "generic", "web-tls", "-n", "crash", "--from-literal=tls.crt=x")
    wait_for_status(cluster, "needs-secret", "Running")


def test_back_off_doubles_from_10s_and_the_messages_say_so(cluster: SimCluster) -> None:
    # Watched, not polled: at this time scale a 10 s back-off lasts a tenth of a second. The container waits for a
    # ConfigMap until the watch runs, so that it misses nothing.
    apply(cluster, pod_manifest("backoff", """\
        - name: main
          image: busybox:1.36
          command: ["sh", "-c", "exit 1"]
          envFrom:
          - configMapRef: {name: backoff-go}
        """))
    wait_for_status(cluster, "backoff", "CreateContainerConfigError")
    watch = KubectlStream(cluster.kubectl, "get", "pod", "backoff", "-n", "crash", "--watch", "-o",
                          "jsonpath={.status.containerStatuses[0].state.waiting.message}{\"\\n\"}")
    try:
        watch.expect(lambda line: line == 'configmap "backoff-go" not found')
        cluster.kubectl("create", "configmap", "backoff-go", "-n", "crash")
        delays: list[str] = []
        for expected in ("10s", "20s", "40s", "1m20s"):
            line = watch.expect(lambda line: line.startswith("back-off") and line.split()[1] not in delays,
                                timeout=WAIT)
            delays.append(line.split()[1])
            assert delays[-1] == expected, delays
    finally:
        watch.close()
    uid = pod(cluster, "backoff")["metadata"]["uid"]
    assert line == f"back-off 1m20s restarting failed container=main pod=backoff_crash({uid})"


def test_liveness_probing_before_start_up_is_done_kills_a_slow_starter_but_a_longer_delay_lets_it_run(
        cluster: SimCluster) -> None:
    probe = """\
        - name: db
          image: postgres:17
          env:
          - {{name: POSTGRES_PASSWORD, value: example}}
          livenessProbe:
            tcpSocket: {{port: 5432}}
            initialDelaySeconds: {delay}
            periodSeconds: 1
            failureThreshold: 1
        """
    apply(cluster, pod_manifest("db-eager", probe.format(delay=0)))
    apply(cluster, pod_manifest("db-patient", probe.format(delay=10)))
    eventually(lambda: restarts(cluster, "db-eager") >= 2, timeout=WAIT, what="the eager probe killing postgres")
    ip = pod(cluster, "db-eager")["status"]["podIP"]
    messages = [m for _, _, m in events(describe(cluster, "db-eager"))]
    assert f"Liveness probe failed: dial tcp {ip}:5432: connect: connection refused" in messages
    assert "Container db failed liveness probe, will be restarted" in messages
    wait_for_status(cluster, "db-patient", "Running")
    assert row(cluster, "db-patient")["READY"] == "1/1"
    assert restarts(cluster, "db-patient") == 0
    assert "database system is ready to accept connections" in cluster.kubectl("logs", "db-patient", "-n", "crash")


# ---- logs --------------------------------------------------------------------------------------------------------

def test_logs_follow_tail_timestamps_and_containers(cluster: SimCluster) -> None:
    apply(cluster, pod_manifest("chatty", """\
        - name: first
          image: busybox:1.36
          command: ["sh", "-c", "echo one; echo two; sleep 30; echo three"]
        - name: second
          image: nginx:1.27
        """, restart_policy="Never"))
    wait_for_status(cluster, "chatty", "Running")
    followed = cluster.kubectl("logs", "chatty", "-n", "crash", "-c", "first", "--follow", timeout=WAIT)
    assert followed.splitlines() == ["one", "two", "three"]
    assert cluster.kubectl("logs", "chatty", "-n", "crash", "-c", "first", "--tail=1").splitlines() == ["three"]
    stamped = cluster.kubectl("logs", "chatty", "-n", "crash", "-c", "first", "--timestamps").splitlines()
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z \w+", line) for line in stamped), stamped
    defaulted = cluster.kubectl.run("logs", "chatty", "-n", "crash")
    assert defaulted.stderr.startswith('Defaulted container "first" out of: first, second')
    nginx = cluster.kubectl("logs", "chatty", "-n", "crash", "-c", "second")
    assert "start worker processes" in nginx
    previous = cluster.kubectl.run("logs", "chatty", "-n", "crash", "-c", "second", "--previous", check=False)
    assert previous.stderr == (
        'Error from server (BadRequest): previous terminated container "second" in pod "chatty" not found\n')


# ---- deployments -------------------------------------------------------------------------------------------------

def deployment(name: str, replicas: int, container: str, *, progress_deadline: int = 600) -> str:
    return textwrap.dedent(f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {name}
          namespace: crash
        spec:
          replicas: {replicas}
          progressDeadlineSeconds: {progress_deadline}
          selector:
            matchLabels: {{app: {name}}}
          template:
            metadata:
              labels: {{app: {name}}}
            spec:
              containers:
        """) + textwrap.indent(textwrap.dedent(container), "      ")


HEALTHY_WEB = """\
    - name: web
      image: nginx:1.27
      readinessProbe:
        httpGet: {path: /, port: 80}
        periodSeconds: 2
    """


def test_rollout_status_succeeds_for_a_healthy_deployment(cluster: SimCluster) -> None:
    apply(cluster, deployment("healthy", 3, HEALTHY_WEB))
    out = cluster.kubectl("rollout", "status", "deployment/healthy", "-n", "crash", "--timeout=60s")
    assert out.splitlines()[-1] == 'deployment "healthy" successfully rolled out'
    rows = table_rows_by_name(cluster.kubectl("get", "deployment", "healthy", "-n", "crash"))
    assert (rows["healthy"]["READY"], rows["healthy"]["UP-TO-DATE"], rows["healthy"]["AVAILABLE"]) == ("3/3", "3", "3")


def test_a_crashing_deployment_exceeds_its_progress_deadline(cluster: SimCluster) -> None:
    apply(cluster, deployment("crasher", 2, """\
        - name: app
          image: busybox:1.36
          command: ["sh", "-c", "echo boom >&2; exit 1"]
        """, progress_deadline=60))
    result = cluster.kubectl.run("rollout", "status", "deployment/crasher", "-n", "crash", "--timeout=60s",
                                 check=False)
    assert result.returncode == 1
    assert result.stderr == 'error: deployment "crasher" exceeded its progress deadline\n'
    status = json.loads(cluster.kubectl("get", "deployment", "crasher", "-n", "crash", "-o", "json"))["status"]
    assert status["replicas"] == 2 and status["updatedReplicas"] == 2 and status["unavailableReplicas"] == 2
    assert "readyReplicas" not in status and "availableReplicas" not in status
    conditions = {c["type"]: c for c in status["conditions"]}
    assert (conditions["Available"]["status"], conditions["Available"]["reason"]) == (
        "False", "MinimumReplicasUnavailable")
    assert (conditions["Progressing"]["status"], conditions["Progressing"]["reason"]) == (
        "False", "ProgressDeadlineExceeded")
    assert re.fullmatch(r'ReplicaSet "crasher-\w+" has timed out progressing\.', conditions["Progressing"]["message"])
    pods = table_rows_by_name(cluster.kubectl("get", "pods", "-n", "crash", "-l", "app=crasher"))
    assert {r["STATUS"] for r in pods.values()} <= {"CrashLoopBackOff", "Error"}


def test_a_rolling_update_to_a_broken_image_keeps_old_pods_serving_and_undo_recovers(cluster: SimCluster) -> None:
    apply(cluster, deployment("rolling", 4, HEALTHY_WEB))
    cluster.kubectl("rollout", "status", "deployment/rolling", "-n", "crash", "--timeout=60s")
    cluster.kubectl("set", "image", "deployment/rolling", "web=nginx:1.2x", "-n", "crash")

    def stuck() -> list[dict[str, Any]] | None:
        pods = json.loads(cluster.kubectl("get", "pods", "-n", "crash", "-l", "app=rolling", "-o", "json"))["items"]
        broken = [p for p in pods if p["spec"]["containers"][0]["image"] == "nginx:1.2x"]
        waiting = [p for p in broken
                   if p["status"].get("containerStatuses", [{}])[0].get("state", {}).get("waiting", {}).get("reason")
                   in ("ErrImagePull", "ImagePullBackOff")]
        return pods if broken and len(waiting) == len(broken) else None

    pods = eventually(stuck, timeout=WAIT, what="the new pods failing to pull")
    ready_old = [p for p in pods if p["spec"]["containers"][0]["image"] == "nginx:1.27"
                 and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))]
    # 25% of 4 may be unavailable: three old pods keep serving while the new ones cannot pull.
    assert len(ready_old) >= 3
    cluster.kubectl("rollout", "undo", "deployment/rolling", "-n", "crash")
    cluster.kubectl("rollout", "status", "deployment/rolling", "-n", "crash", "--timeout=60s")

    def recovered() -> bool:
        pods = json.loads(cluster.kubectl("get", "pods", "-n", "crash", "-l", "app=rolling", "-o", "json"))["items"]
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        return len(live) == 4 and all(p["spec"]["containers"][0]["image"] == "nginx:1.27" for p in live)

    eventually(recovered, timeout=WAIT, what="four nginx:1.27 pods again")


def test_a_node_low_on_memory_evicts_the_pod_furthest_over_its_requests(cluster: SimCluster) -> None:
    apply(cluster, pod_manifest("hog", """\
        - name: hog
          image: polinux/stress
          command: ["stress"]
          args: ["--vm", "1", "--vm-bytes", "2000M"]
        """))
    eventually(lambda: pod(cluster, "hog")["status"].get("reason") == "Evicted", timeout=WAIT,
               what="the hog evicted")
    described = describe(cluster, "hog")
    assert described_field(described, "Status") == "Failed"
    assert described_field(described, "Reason") == "Evicted"
    message = described_field(described, "Message")
    assert re.fullmatch(r"The node was low on resource: memory\. Threshold quantity: 100Mi, available: \d+Ki\. "
                        r"Container hog was using \d+Ki, request is 0, has larger consumption of memory\.",
                        message), message
    assert ("Warning", "Evicted", message) in [(t, r, m.strip()) for t, r, m in events(described)]
    node = pod(cluster, "hog")["spec"]["nodeName"]
    node_events = cluster.kubectl("get", "events", "-A", "--field-selector", f"involvedObject.name={node}")
    assert "NodeHasInsufficientMemory" in node_events and "EvictionThresholdMet" in node_events
    assert row(cluster, "hog")["RESTARTS"] == "0", "an evicted pod is not restarted"
    eventually(lambda: "NodeHasSufficientMemory" in cluster.kubectl(
        "get", "events", "-A", "--field-selector", f"involvedObject.name={node}"), timeout=WAIT,
        what="MemoryPressure cleared after the transition period")
