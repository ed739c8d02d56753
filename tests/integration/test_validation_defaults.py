"""Defaulting and validation of Deployments, and field validation (Strict / Warn), as kubectl users meet them."""

from __future__ import annotations

import json

from tests.conftest import Kubectl
from tests.integration.support import deployment, to_yaml


def minimal_deployment() -> dict:
    body = deployment("web")
    body["spec"]["template"]["spec"]["containers"] = [
        {"name": "latest", "image": "nginx"},
        {"name": "pinned", "image": "nginx:1.25"},
    ]
    return body


def test_minimal_deployment_comes_back_with_kubernetes_defaults(kubectl: Kubectl) -> None:
    assert kubectl("create", "-f", "-", input=to_yaml(minimal_deployment())) == "deployment.apps/web created\n"
    got = json.loads(kubectl("get", "deploy", "web", "-o", "json"))
    spec = got["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Always"
    assert pod["terminationGracePeriodSeconds"] == 30
    assert pod["dnsPolicy"] == "ClusterFirst"
    assert pod["schedulerName"] == "default-scheduler"
    assert pod["securityContext"] == {}
    latest, pinned = pod["containers"]
    assert latest["imagePullPolicy"] == "Always"
    assert pinned["imagePullPolicy"] == "IfNotPresent"
    for container in (latest, pinned):
        assert container["terminationMessagePath"] == "/dev/termination-log"
        assert container["terminationMessagePolicy"] == "File"
        assert container["resources"] == {}
    assert got["metadata"]["generation"] == 1


def test_image_pull_policy_always_for_latest_tag(kubectl: Kubectl) -> None:
    body = deployment("web", image="nginx:latest")
    kubectl("create", "-f", "-", input=to_yaml(body))
    policy = kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].imagePullPolicy}")
    assert policy == "Always"


def test_pod_created_directly_is_pending_with_defaults(kubectl: Kubectl) -> None:
    assert kubectl("run", "web", "--image=nginx:1.25") == "pod/web created\n"
    pod = json.loads(kubectl("get", "pod", "web", "-o", "json"))
    assert pod["status"]["phase"] == "Pending"
    assert pod["spec"]["restartPolicy"] == "Always"
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert pod["spec"]["enableServiceLinks"] is True


def test_selector_not_matching_template_labels_is_invalid(kubectl: Kubectl) -> None:
    body = deployment("web")
    body["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    result = kubectl.run("create", "-f", "-", input=to_yaml(body), check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(
        'The Deployment "web" is invalid: spec.template.metadata.labels: Invalid value: '
    ), result.stderr
    assert "`selector` does not match template `labels`" in result.stderr
    assert kubectl.run("get", "deploy").stderr == "No resources found in default namespace.\n"


def test_missing_containers_is_invalid_naming_the_field(kubectl: Kubectl) -> None:
    body = deployment("web")
    body["spec"]["template"]["spec"]["containers"] = []
    result = kubectl.run("create", "-f", "-", input=to_yaml(body), check=False)
    assert result.returncode == 1
    assert result.stderr.startswith('The Deployment "web" is invalid: spec.template.spec.containers: Required value'), (
        result.stderr
    )


def test_negative_replicas_is_invalid(kubectl: Kubectl) -> None:
    result = kubectl.run("create", "-f", "-", input=to_yaml(deployment("web", replicas=-1)), check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(
        'The Deployment "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'
    ), result.stderr


def test_changing_the_selector_is_refused_as_immutable(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=to_yaml(deployment("web")))
    patch = '{"spec":{"selector":{"matchLabels":{"app":"other"}},"template":{"metadata":{"labels":{"app":"other"}}}}}'
    result = kubectl.run("patch", "deploy", "web", "--type=merge", "-p", patch, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith('The Deployment "web" is invalid: spec.selector: Invalid value: '), result.stderr
    assert "field is immutable" in result.stderr
    assert kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.selector.matchLabels.app}") == "web"


def test_strict_field_validation_refuses_unknown_field(kubectl: Kubectl) -> None:
    body = deployment("web")
    body["spec"]["foo"] = "bar"
    result = kubectl.run("create", "--validate=strict", "-f", "-", input=to_yaml(body), check=False)
    assert result.returncode == 1
    assert result.stderr.startswith('Error from server (BadRequest): error when creating "STDIN": '), result.stderr
    assert 'strict decoding error: unknown field "spec.foo"' in result.stderr
    assert kubectl.run("get", "deploy").stderr == "No resources found in default namespace.\n"


def test_warn_field_validation_creates_and_prints_a_warning(kubectl: Kubectl) -> None:
    body = deployment("web")
    body["spec"]["foo"] = "bar"
    result = kubectl.run("create", "--validate=warn", "-f", "-", input=to_yaml(body))
    assert result.stdout == "deployment.apps/web created\n"
    assert 'Warning: unknown field "spec.foo"' in result.stderr.splitlines()
    assert "foo" not in json.loads(kubectl("get", "deploy", "web", "-o", "json"))["spec"]


def test_ignore_field_validation_creates_silently(kubectl: Kubectl) -> None:
    body = deployment("web")
    body["spec"]["foo"] = "bar"
    result = kubectl.run("create", "--validate=false", "-f", "-", input=to_yaml(body))
    assert result.stdout == "deployment.apps/web created\n"
    assert result.stderr == ""


def test_apply_strict_unknown_nested_field_names_its_path(kubectl: Kubectl) -> None:
    body = deployment("web")
    body["spec"]["template"]["spec"]["containers"][0]["imagePolicy"] = "Always"
    result = kubectl.run("apply", "-f", "-", input=to_yaml(body), check=False)
    assert result.returncode == 1
    assert 'unknown field "spec.template.spec.containers[0].imagePolicy"' in result.stderr, result.stderr
