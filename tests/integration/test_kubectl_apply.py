"""kubectl apply (client-side and server-side), diff, edit and patch: declarative and in-place changes."""

from __future__ import annotations

import json
import re

from tests.conftest import Kubectl
from tests.integration.support import create_configmap, create_deployment, deployment, to_yaml


def replicas(kubectl: Kubectl, name: str = "web") -> str:
    return kubectl("get", "deploy", name, "-o", "jsonpath={.spec.replicas}")


def test_apply_creates_then_configures_then_reports_unchanged(kubectl: Kubectl) -> None:
    assert kubectl("apply", "-f", "-", input=to_yaml(deployment(replicas=1))) == "deployment.apps/web created\n"
    assert kubectl("apply", "-f", "-", input=to_yaml(deployment(replicas=3))) == "deployment.apps/web configured\n"
    assert replicas(kubectl) == "3"
    assert kubectl("apply", "-f", "-", input=to_yaml(deployment(replicas=3))) == "deployment.apps/web unchanged\n"
    annotations = json.loads(kubectl("get", "deploy", "web", "-o", "jsonpath={.metadata.annotations}"))
    last_applied = json.loads(annotations["kubectl.kubernetes.io/last-applied-configuration"])
    assert last_applied["spec"]["replicas"] == 3


def test_apply_twice_reports_unchanged(kubectl: Kubectl) -> None:
    manifest = to_yaml({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"},
                        "data": {"color": "blue"}})
    assert kubectl("apply", "-f", "-", input=manifest) == "configmap/settings created\n"
    assert kubectl("apply", "-f", "-", input=manifest) == "configmap/settings unchanged\n"


def test_apply_removes_a_field_dropped_from_the_manifest(kubectl: Kubectl) -> None:
    with_env = deployment()
    with_env["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "MODE", "value": "debug"}]
    kubectl("apply", "-f", "-", input=to_yaml(with_env))
    assert kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].env[0].value}") == (
        "debug"
    )
    assert kubectl("apply", "-f", "-", input=to_yaml(deployment())) == "deployment.apps/web configured\n"
    assert kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].env}") == ""


def test_apply_several_objects_from_one_file(kubectl: Kubectl) -> None:
    manifest = to_yaml(
        deployment("api"),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-config"}, "data": {"k": "v"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},
         "spec": {"selector": {"app": "api"}, "ports": [{"port": 80}]}},
    )
    assert kubectl("apply", "-f", "-", input=manifest).splitlines() == [
        "deployment.apps/api created", "configmap/api-config created", "service/api created",
    ]
    assert kubectl("apply", "-f", "-", input=manifest).splitlines() == [
        "deployment.apps/api unchanged", "configmap/api-config unchanged", "service/api unchanged",
    ]


def test_apply_server_side_prints_serverside_applied(kubectl: Kubectl) -> None:
    out = kubectl("apply", "--server-side", "-f", "-", input=to_yaml(deployment(replicas=2)))
    assert out == "deployment.apps/web serverside-applied\n"
    assert replicas(kubectl) == "2"
    out = kubectl("apply", "--server-side", "-f", "-", input=to_yaml(deployment(replicas=4)))
    assert out == "deployment.apps/web serverside-applied\n"
    assert replicas(kubectl) == "4"
    managed = json.loads(kubectl("get", "deploy", "web", "-o", "json", "--show-managed-fields"))
    entries = managed["metadata"]["managedFields"]
    assert [(e["manager"], e["operation"]) for e in entries] == [("kubectl", "Apply")]
    assert "f:replicas" in entries[0]["fieldsV1"]["f:spec"]


def test_apply_server_side_conflict_names_the_field_and_manager(kubectl: Kubectl) -> None:
    kubectl("apply", "--server-side", "--field-manager=team-a", "-f", "-", input=to_yaml(deployment(replicas=2)))
    result = kubectl.run("apply", "--server-side", "--field-manager=team-b", "-f", "-",
                         input=to_yaml(deployment(replicas=5)), check=False)
    assert result.returncode == 1
    assert result.stdout == ""
    assert 'error: Apply failed with 1 conflict: conflict with "team-a": .spec.replicas' in result.stderr
    assert "--force-conflicts" in result.stderr
    assert replicas(kubectl) == "2"


def test_apply_server_side_force_conflicts_takes_ownership(kubectl: Kubectl) -> None:
    kubectl("apply", "--server-side", "--field-manager=team-a", "-f", "-", input=to_yaml(deployment(replicas=2)))
    out = kubectl("apply", "--server-side", "--field-manager=team-b", "--force-conflicts", "-f", "-",
                  input=to_yaml(deployment(replicas=5)))
    assert out == "deployment.apps/web serverside-applied\n"
    assert replicas(kubectl) == "5"
    managed = json.loads(kubectl("get", "deploy", "web", "-o", "json", "--show-managed-fields"))
    owners = {e["manager"]: e["fieldsV1"] for e in managed["metadata"]["managedFields"]}
    assert "f:replicas" in owners["team-b"]["f:spec"]
    assert "f:replicas" not in owners.get("team-a", {}).get("f:spec", {})


def test_apply_server_side_conflicts_with_an_imperative_update(kubectl: Kubectl) -> None:
    kubectl("apply", "--server-side", "-f", "-", input=to_yaml(deployment(replicas=2)))
    kubectl("scale", "deployment", "web", "--replicas=3")
    result = kubectl.run("apply", "--server-side", "-f", "-", input=to_yaml(deployment(replicas=2)), check=False)
    assert result.returncode == 1
    assert re.search(
        r'Apply failed with 1 conflict: conflict with "kubectl[^"]*"( with subresource "scale")?( using apps/v1)?: '
        r"\.spec\.replicas", result.stderr), result.stderr
    assert replicas(kubectl) == "3"


def test_diff_exits_1_and_shows_the_changed_field(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=to_yaml(deployment(replicas=1)))
    result = kubectl.run("diff", "-f", "-", input=to_yaml(deployment(replicas=3)), check=False)
    assert result.returncode == 1, result.stderr
    assert re.search(r"^-\s+replicas: 1$", result.stdout, re.M), result.stdout
    assert re.search(r"^\+\s+replicas: 3$", result.stdout, re.M), result.stdout
    assert re.search(r"^diff -u -N \S+/apps\.v1\.Deployment\.default\.web ", result.stdout, re.M), result.stdout
    # diff is a dry run: nothing changed.
    assert replicas(kubectl) == "1"


def test_diff_exits_0_when_live_equals_manifest(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=to_yaml(deployment(replicas=2)))
    result = kubectl.run("diff", "-f", "-", input=to_yaml(deployment(replicas=2)), check=False)
    assert (result.returncode, result.stdout) == (0, ""), result.stderr


def test_diff_of_a_new_object_shows_it_whole(kubectl: Kubectl) -> None:
    result = kubectl.run("diff", "-f", "-", input=to_yaml(deployment("fresh", replicas=2)), check=False)
    assert result.returncode == 1, result.stderr
    assert re.search(r"^\+\s+name: fresh$", result.stdout, re.M), result.stdout
    assert re.search(r"^\+\s+replicas: 2$", result.stdout, re.M), result.stdout
    assert kubectl.run("get", "deploy").stderr == "No resources found in default namespace.\n"


def test_edit_with_non_interactive_editor_prints_edited(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "web")
    out = kubectl("edit", "deployment", "web", env={"KUBE_EDITOR": "sed -i 's/replicas: 1/replicas: 3/'"})
    assert out == "deployment.apps/web edited\n"
    assert replicas(kubectl) == "3"


def test_edit_without_changes_says_edit_cancelled(kubectl: Kubectl) -> None:
    create_configmap(kubectl, "settings", a="b")
    result = kubectl.run("edit", "cm", "settings", env={"KUBE_EDITOR": "true"})
    assert result.stdout == ""
    assert result.stderr == "Edit cancelled, no changes made.\n"


def test_patch_strategic_merges_containers_by_name(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "web")
    patch = '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}'
    assert kubectl("patch", "deployment", "web", "-p", patch) == "deployment.apps/web patched\n"
    names = kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[*].name}")
    assert names == "sidecar nginx"  # patch items first, then the live-only ones: kube's merge order
    patch = '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.25"}]}}}}'
    assert kubectl("patch", "deployment", "web", "--type=strategic", "-p", patch) == (
        "deployment.apps/web patched\n"
    )
    images = kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[*].image}")
    assert images == "busybox nginx:1.25"


def test_patch_strategic_delete_directive_removes_a_container(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "web")
    kubectl("patch", "deployment", "web", "-p",
            '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}')
    kubectl("patch", "deployment", "web", "-p",
            '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}')
    assert kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[*].name}") == "nginx"


def test_patch_merge_replaces_lists_whole(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "web")
    patch = '{"metadata":{"labels":{"team":"blue"}},"spec":{"template":{"spec":{"containers":[{"name":"only",' \
            '"image":"busybox"}]}}}}'
    assert kubectl("patch", "deployment", "web", "--type=merge", "-p", patch) == "deployment.apps/web patched\n"
    assert kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[*].name}") == "only"
    assert kubectl("get", "deploy", "web", "-o", "jsonpath={.metadata.labels.team}") == "blue"
    # null deletes a key in a merge patch.
    kubectl("patch", "deployment", "web", "--type=merge", "-p", '{"metadata":{"labels":{"team":null}}}')
    assert kubectl("get", "deploy", "web", "-o", "jsonpath={.metadata.labels}") == '{"app":"web"}'


def test_patch_json_applies_operations(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "web")
    ops = '[{"op":"replace","path":"/spec/replicas","value":4},' \
          '{"op":"add","path":"/metadata/labels/tier","value":"web"}]'
    assert kubectl("patch", "deployment", "web", "--type=json", "-p", ops) == "deployment.apps/web patched\n"
    assert replicas(kubectl) == "4"
    assert kubectl("get", "deploy", "web", "-o", "jsonpath={.metadata.labels.tier}") == "web"


def test_patch_json_failed_test_operation_changes_nothing(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "web")
    ops = '[{"op":"test","path":"/spec/replicas","value":7},{"op":"replace","path":"/spec/replicas","value":4}]'
    result = kubectl.run("patch", "deployment", "web", "--type=json", "-p", ops, check=False)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip()
    assert replicas(kubectl) == "1"


def test_patch_without_effect_says_no_change(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "web")
    rv = kubectl("get", "deploy", "web", "-o", "jsonpath={.metadata.resourceVersion}")
    out = kubectl("patch", "deployment", "web", "--type=merge", "-p", '{"spec":{"replicas":1}}')
    assert out == "deployment.apps/web patched (no change)\n"
    assert kubectl("get", "deploy", "web", "-o", "jsonpath={.metadata.resourceVersion}") == rv


def test_patch_missing_object_says_not_found(kubectl: Kubectl) -> None:
    result = kubectl.run("patch", "deployment", "ghost", "--type=merge", "-p", '{"spec":{"replicas":2}}',
                         check=False)
    assert result.returncode == 1
    assert result.stderr == 'Error from server (NotFound): deployments.apps "ghost" not found\n'


def test_apply_server_dry_run_stores_nothing(kubectl: Kubectl) -> None:
    out = kubectl("apply", "--dry-run=server", "-f", "-", input=to_yaml(deployment(replicas=2)))
    assert out == "deployment.apps/web created (server dry run)\n"
    assert kubectl.run("get", "deploy").stderr == "No resources found in default namespace.\n"
    kubectl("apply", "-f", "-", input=to_yaml(deployment(replicas=2)))
    out = kubectl("apply", "--dry-run=server", "-f", "-", input=to_yaml(deployment(replicas=5)))
    assert out == "deployment.apps/web configured (server dry run)\n"
    assert replicas(kubectl) == "2"


def test_rollout_restart_stamps_the_pod_template(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "web")
    assert kubectl("rollout", "restart", "deployment/web") == "deployment.apps/web restarted\n"
    stamp = kubectl("get", "deploy", "web", "-o",
                    "jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp), stamp
    assert kubectl("get", "deploy", "web", "-o", "jsonpath={.metadata.generation}") == "2"


def test_apply_server_side_removes_fields_the_manager_stops_applying(kubectl: Kubectl) -> None:
    full = deployment(replicas=3)
    full["metadata"]["labels"] = {"app": "web", "extra": "please"}
    full["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "MODE", "value": "debug"}]
    kubectl("apply", "--server-side", "-f", "-", input=to_yaml(full))
    kubectl("apply", "--server-side", "-f", "-", input=to_yaml(deployment()))
    got = json.loads(kubectl("get", "deploy", "web", "-o", "json"))
    assert got["metadata"].get("labels") in (None, {})
    assert "env" not in got["spec"]["template"]["spec"]["containers"][0]
    assert got["spec"]["replicas"] == 1  # no longer owned by anyone: back to the default


def test_apply_server_side_managers_share_a_list_by_merge_key(kubectl: Kubectl) -> None:
    kubectl("apply", "--server-side", "-f", "-", input=to_yaml(deployment()))
    sidecar = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "busybox"}]}}}}
    assert kubectl("apply", "--server-side", "--field-manager=mesh", "-f", "-", input=to_yaml(sidecar)) == (
        "deployment.apps/web serverside-applied\n"
    )
    names = "jsonpath={.spec.template.spec.containers[*].name}"
    assert kubectl("get", "deploy", "web", "-o", names) == "app sidecar"
    # Re-applying the first manager's config, which never mentioned the sidecar, leaves it alone.
    kubectl("apply", "--server-side", "-f", "-", input=to_yaml(deployment()))
    assert kubectl("get", "deploy", "web", "-o", names) == "app sidecar"
