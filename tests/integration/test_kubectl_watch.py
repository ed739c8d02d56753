"""kubectl get -w and kubectl wait: changes reach a watching user as they happen."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import Kubectl
from tests.integration.support import (
    cells,
    configmap,
    create_configmap,
    create_deployment,
    eventually,
    kubectl_stream,
    to_yaml,
)


def test_get_watch_prints_a_line_for_each_change(kubectl: Kubectl) -> None:
    create_configmap(kubectl, "x", a="1")
    with kubectl_stream(kubectl, "get", "cm", "x", "-w", "--request-timeout=60s") as watch:
        assert cells(watch.expect(lambda line: line.startswith("NAME"))) == ["NAME", "DATA", "AGE"]
        assert cells(watch.expect(lambda line: line.startswith("x ")))[:2] == ["x", "1"]
        assert kubectl("patch", "cm", "x", "--type=merge", "-p", '{"data":{"b":"2"}}') == "configmap/x patched\n"
        assert cells(watch.expect(lambda line: line.startswith("x ")))[:2] == ["x", "2"]
        kubectl("patch", "cm", "x", "--type=merge", "-p", '{"data":{"c":"3"}}')
        assert cells(watch.expect(lambda line: line.startswith("x ")))[:2] == ["x", "3"]


def test_get_watch_output_watch_events_shows_added_modified_deleted(kubectl: Kubectl) -> None:
    create_configmap(kubectl, "before", a="1")
    with kubectl_stream(kubectl, "get", "cm", "-w", "--output-watch-events") as watch:
        assert cells(watch.expect(lambda line: line.startswith("EVENT"))) == ["EVENT", "NAME", "DATA", "AGE"]
        assert cells(watch.expect(lambda line: " before " in line))[:3] == ["ADDED", "before", "1"]
        create_configmap(kubectl, "later", a="1", b="2")
        assert cells(watch.expect(lambda line: " later " in line))[:3] == ["ADDED", "later", "2"]
        kubectl("label", "cm", "later", "seen=yes")
        assert cells(watch.expect(lambda line: " later " in line))[:3] == ["MODIFIED", "later", "2"]
        kubectl("delete", "cm", "later")
        assert cells(watch.expect(lambda line: " later " in line))[:3] == ["DELETED", "later", "2"]
    # Nothing but these events was printed for "later".
    assert [cells(line)[0] for line in watch.seen_stdout if " later " in line] == ["ADDED", "MODIFIED", "DELETED"]


def test_get_watch_with_label_selector_sees_objects_enter_and_leave(kubectl: Kubectl) -> None:
    create_configmap(kubectl, "marker")

    def about(name: str) -> Callable[[str], bool]:
        return lambda line: cells(line)[1:2] == [name]

    with kubectl_stream(kubectl, "get", "cm", "-w", "-l", "team=a", "--output-watch-events") as watch:
        create_configmap(kubectl, "x")
        kubectl("label", "cm", "x", "team=a")
        assert cells(watch.expect(about("x")))[:2] == ["ADDED", "x"]
        kubectl("label", "cm", "x", "team=b", "--overwrite")
        assert cells(watch.expect(about("x")))[:2] == ["DELETED", "x"]
        kubectl("label", "cm", "x", "team=a", "--overwrite")
        assert cells(watch.expect(about("x")))[:2] == ["ADDED", "x"]
    assert not any("marker" in line for line in watch.seen_stdout)


def test_wait_for_delete_reports_condition_met_when_finalizer_is_removed(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=to_yaml(configmap("held", {"a": "1"}, finalizers=["example.com/hold"])))
    assert kubectl("delete", "cm", "held", "--wait=false") == 'configmap "held" deleted\n'
    # Still there, marked for deletion, until its finalizer goes.
    assert kubectl("get", "cm", "held", "-o", "jsonpath={.metadata.deletionTimestamp}") != ""
    with kubectl_stream(kubectl, "wait", "--for=delete", "cm/held", "--timeout=60s", "-v=6") as waiting:
        # -v=6 logs each request: once wait has read the object, removing the finalizer must end the wait.
        waiting.expect_stderr(lambda line: "/configmaps/held" in line or "/configmaps?fieldSelector" in line)
        out = kubectl("patch", "cm", "held", "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]')
        assert out == "configmap/held patched\n"
        assert waiting.wait() == 0, waiting.seen_stderr
        assert waiting.rest_of_stdout() == ["configmap/held condition met"]
    result = kubectl.run("get", "cm", "held", check=False)
    assert result.stderr == 'Error from server (NotFound): configmaps "held" not found\n'


def test_wait_for_delete_after_background_delete(kubectl: Kubectl) -> None:
    create_configmap(kubectl, "doomed", a="1")
    assert kubectl("delete", "cm", "doomed", "--wait=false") == 'configmap "doomed" deleted\n'
    result = kubectl.run("wait", "--for=delete", "cm/doomed", "--timeout=30s")
    # Already gone: wait succeeds (and prints nothing when it never saw the object).
    assert result.returncode == 0
    assert result.stdout in ("", "configmap/doomed condition met\n")


def test_wait_for_delete_times_out_while_a_finalizer_remains(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=to_yaml(configmap("stuck", finalizers=["example.com/hold"])))
    kubectl("delete", "cm", "stuck", "--wait=false")
    result = kubectl.run("wait", "--for=delete", "cm/stuck", "--timeout=2s", check=False)
    assert result.returncode == 1
    # (client-go may log a reflector warning first when its watch is cut short by the timeout)
    assert result.stderr.splitlines()[-1] == "error: timed out waiting for the condition on configmaps/stuck"
    kubectl("patch", "cm", "stuck", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    eventually(lambda: kubectl.run("get", "cm", "stuck", check=False).returncode == 1, what="stuck to go")


def test_wait_for_jsonpath_condition(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "web")
    with kubectl_stream(kubectl, "wait", "deploy/web", "--for=jsonpath={.spec.replicas}=3", "--timeout=60s",
                        "-v=6") as waiting:
        waiting.expect_stderr(lambda line: "/deployments" in line and "watch" in line)
        kubectl("scale", "deploy", "web", "--replicas=3")
        assert waiting.wait() == 0, waiting.seen_stderr
        assert waiting.rest_of_stdout() == ["deployment.apps/web condition met"]
