"""kubectl against Canopy: what a user types and what they see, for the everyday read and write commands.

Every assertion is on what kubectl prints, as kubectl 1.32 prints it against kube-apiserver 1.32.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime

import yaml

from tests.conftest import Kubectl
from tests.integration.support import (
    configmap,
    create_configmap,
    create_deployment,
    deployment,
    table,
    table_rows_by_name,
    tables,
    to_yaml,
)

UID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_api_resources_lists_deployments_with_shortname_group_and_scope(kubectl: Kubectl) -> None:
    header, rows = table(kubectl("api-resources"))
    assert header == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    by_name = {row[0]: row for row in rows}
    assert by_name["deployments"] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert by_name["replicasets"] == ["replicasets", "rs", "apps/v1", "true", "ReplicaSet"]
    assert by_name["pods"] == ["pods", "po", "v1", "true", "Pod"]
    assert by_name["configmaps"] == ["configmaps", "cm", "v1", "true", "ConfigMap"]
    assert by_name["namespaces"] == ["namespaces", "ns", "v1", "false", "Namespace"]
    # A resource without short names leaves the column blank: four cells.
    assert by_name["secrets"] == ["secrets", "v1", "true", "Secret"]


def test_api_resources_filters_by_group_and_shows_verbs(kubectl: Kubectl) -> None:
    names = kubectl("api-resources", "--api-group=apps", "-o", "name").split()
    assert {"deployments.apps", "replicasets.apps"} <= set(names)
    assert all(name.endswith(".apps") for name in names), names
    rows = table_rows_by_name(kubectl("api-resources", "--api-group=apps", "-o", "wide"))
    # kubectl prints the verbs as "[a b]" or "a,b" depending on its version: compare the sets.
    verbs = re.split(r"[ ,]", rows["deployments"]["VERBS"].strip("[]"))
    assert verbs == ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    assert rows["deployments"]["CATEGORIES"].strip("[]") == "all"


def test_create_deployment_prints_created(kubectl: Kubectl) -> None:
    assert kubectl("create", "deployment", "nginx", "--image=nginx") == "deployment.apps/nginx created\n"
    deploy = json.loads(kubectl("get", "deployment", "nginx", "-o", "json"))
    assert deploy["spec"]["selector"] == {"matchLabels": {"app": "nginx"}}
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx"
    assert deploy["metadata"]["labels"] == {"app": "nginx"}


def test_create_existing_deployment_says_already_exists(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "nginx")
    result = kubectl.run("create", "-f", "-", input=to_yaml(deployment("nginx")), check=False)
    assert result.returncode == 1
    assert result.stderr == (
        'Error from server (AlreadyExists): error when creating "STDIN": deployments.apps "nginx" already exists\n'
    )


def test_create_deployment_twice_says_already_exists(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "nginx")
    result = kubectl.run("create", "deployment", "nginx", "--image=nginx", check=False)
    assert result.returncode == 1
    assert result.stderr == 'error: failed to create deployment: deployments.apps "nginx" already exists\n'


def test_get_deployments_prints_ready_up_to_date_available_columns(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "nginx")
    header, rows = table(kubectl("get", "deploy"))
    assert header == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert len(rows) == 1
    name, ready, up_to_date, available, age = rows[0]
    assert name == "nginx"
    assert re.fullmatch(r"\d+/1", ready)
    assert up_to_date.isdigit() and available.isdigit()
    assert re.fullmatch(r"\d+s", age)


def test_get_wide_adds_containers_images_and_selector_and_the_diagnosis(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "nginx", "nginx:1.25")
    header, rows = table(kubectl("get", "deploy", "-o", "wide"))
    assert header == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR",
                      "HEALTHY"]
    assert rows[0][0] == "nginx"
    assert rows[0][5:] == ["nginx", "nginx:1.25", "app=nginx", "<none>"], "never flagged by the diagnosis"


def test_get_several_kinds_prints_one_table_each(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "nginx")
    assert kubectl("run", "web", "--image=nginx") == "pod/web created\n"
    create_configmap(kubectl, "settings", a="b")
    blocks = tables(kubectl("get", "deploy,pods,cm"))
    by_header = {tuple(header): rows for header, rows in blocks}
    assert [r[0] for r in by_header[("NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE")]] == [
        "deployment.apps/nginx"
    ]
    pods = by_header[("NAME", "READY", "STATUS", "RESTARTS", "AGE")]
    assert [(r[0], r[1], r[2], r[3]) for r in pods] == [("pod/web", "0/1", "Pending", "0")]
    configmaps = by_header[("NAME", "DATA", "AGE")]
    assert ["configmap/settings", "1"] in [r[:2] for r in configmaps]


def test_get_output_name_json_yaml_and_jsonpath(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "nginx")
    create_configmap(kubectl, "settings", color="blue")
    names = kubectl("get", "deploy,cm", "-o", "name").split()
    assert "deployment.apps/nginx" in names and "configmap/settings" in names

    as_json = json.loads(kubectl("get", "deploy,cm", "-o", "json"))
    assert as_json["kind"] == "List"
    kinds = {(item["kind"], item["metadata"]["name"]) for item in as_json["items"]}
    assert {("Deployment", "nginx"), ("ConfigMap", "settings")} <= kinds

    as_yaml = yaml.safe_load(kubectl("get", "deploy", "nginx", "-o", "yaml"))
    assert as_yaml["apiVersion"] == "apps/v1" and as_yaml["kind"] == "Deployment"
    assert as_yaml["metadata"]["namespace"] == "default"

    assert kubectl("get", "deploy", "nginx", "-o", "jsonpath={.spec.template.spec.containers[0].image}") == "nginx"
    assert kubectl("get", "cm", "settings", "-o", "jsonpath={.data.color}") == "blue"
    assert kubectl("get", "deploy", "-o", "jsonpath={.items[*].metadata.name}") == "nginx"


def test_get_missing_object_says_not_found(kubectl: Kubectl) -> None:
    result = kubectl.run("get", "deploy", "ghost", check=False)
    assert result.returncode == 1
    assert result.stderr == 'Error from server (NotFound): deployments.apps "ghost" not found\n'


def test_get_empty_namespace_says_no_resources_found(kubectl: Kubectl) -> None:
    result = kubectl.run("get", "deploy")
    assert result.stdout == ""
    assert result.stderr == "No resources found in default namespace.\n"


def test_describe_deployment_shows_replicas_selector_and_pod_template(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "nginx", "nginx:1.25", replicas=2)
    out = kubectl("describe", "deployment", "nginx")
    assert re.search(r"^Name:\s+nginx$", out, re.M), out
    assert re.search(r"^Namespace:\s+default$", out, re.M), out
    assert re.search(r"^Selector:\s+app=nginx$", out, re.M), out
    assert re.search(r"^Replicas:\s+2 desired \| \d+ updated \| \d+ total \| \d+ available \| \d+ unavailable$",
                     out, re.M), out
    assert re.search(r"^StrategyType:\s+RollingUpdate$", out, re.M), out
    assert re.search(r"^RollingUpdateStrategy:\s+25% max unavailable, 25% max surge$", out, re.M), out
    assert re.search(r"^Pod Template:$", out, re.M), out
    assert re.search(r"^\s+Labels:\s+app=nginx$", out, re.M), out
    assert re.search(r"^\s+Image:\s+nginx:1\.25$", out, re.M), out


def test_explain_deployment_spec_replicas_prints_field_and_description(kubectl: Kubectl) -> None:
    out = kubectl("explain", "deployment.spec.replicas")
    assert re.search(r"^GROUP:\s+apps$", out, re.M), out
    assert re.search(r"^KIND:\s+Deployment$", out, re.M), out
    assert re.search(r"^VERSION:\s+v1$", out, re.M), out
    assert "FIELD: replicas <integer>" in out
    assert "DESCRIPTION:" in out
    assert "Number of desired pods." in out


def test_explain_deployment_lists_its_fields(kubectl: Kubectl) -> None:
    out = kubectl("explain", "deployment")
    assert re.search(r"^DESCRIPTION:\n    Deployment enables declarative updates for Pods and ReplicaSets\.$",
                     out, re.M), out
    assert re.search(r"^FIELDS:$", out, re.M), out
    assert re.search(r"^  metadata\t<ObjectMeta>$", out, re.M), out
    assert re.search(r"^  kind\t<string>$", out, re.M), out


def test_explain_deployment_describes_spec_and_status(kubectl: Kubectl) -> None:
    out = kubectl("explain", "deployment")
    assert re.search(r"^  spec\t<DeploymentSpec>\n    Specification of the desired behavior of the Deployment\.$",
                     out, re.M), out
    assert re.search(r"^  status\t<DeploymentStatus>\n    Most recently observed status of the Deployment\.$",
                     out, re.M), out


def test_create_configmap_from_literals(kubectl: Kubectl) -> None:
    out = kubectl("create", "configmap", "app-config", "--from-literal=color=blue", "--from-literal=size=L")
    assert out == "configmap/app-config created\n"
    assert kubectl("get", "cm", "app-config", "-o", "jsonpath={.data.color} {.data.size}") == "blue L"
    rows = table_rows_by_name(kubectl("get", "cm", "app-config"))
    assert rows["app-config"]["DATA"] == "2"


def test_create_secret_generic_stores_base64_data(kubectl: Kubectl) -> None:
    assert kubectl("create", "secret", "generic", "creds", "--from-literal=password=s3cr3t") == (
        "secret/creds created\n"
    )
    encoded = kubectl("get", "secret", "creds", "-o", "jsonpath={.data.password}")
    assert encoded == base64.b64encode(b"s3cr3t").decode()
    rows = table_rows_by_name(kubectl("get", "secret", "creds"))
    assert rows["creds"]["TYPE"] == "Opaque"
    assert rows["creds"]["DATA"] == "1"


def test_create_namespace_prints_created(kubectl: Kubectl) -> None:
    assert kubectl("create", "namespace", "team-a") == "namespace/team-a created\n"
    rows = table_rows_by_name(kubectl("get", "ns", "team-a"))
    assert rows["team-a"]["STATUS"] == "Active"


def test_secret_from_manifest_string_data_is_stored_base64(kubectl: Kubectl) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"}, "stringData": {"password": "s3cr3t"}}
    assert kubectl("create", "-f", "-", input=to_yaml(secret)) == "secret/creds created\n"
    assert kubectl("get", "secret", "creds", "-o", "jsonpath={.data.password}") == (
        base64.b64encode(b"s3cr3t").decode()
    )
    assert kubectl("get", "secret", "creds", "-o", "jsonpath={.stringData}") == ""
    rows = table_rows_by_name(kubectl("get", "secret", "creds"))
    assert (rows["creds"]["TYPE"], rows["creds"]["DATA"]) == ("Opaque", "1")


def test_expose_deployment_creates_service_selecting_its_pods(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "nginx")
    assert kubectl("expose", "deployment", "nginx", "--port=80") == "service/nginx exposed\n"
    service = json.loads(kubectl("get", "service", "nginx", "-o", "json"))
    assert service["spec"]["selector"] == {"app": "nginx"}
    assert [(p["port"], p["protocol"], p["targetPort"]) for p in service["spec"]["ports"]] == [(80, "TCP", 80)]
    assert service["spec"]["type"] == "ClusterIP"
    rows = table_rows_by_name(kubectl("get", "svc", "nginx"))
    assert rows["nginx"]["TYPE"] == "ClusterIP"
    assert rows["nginx"]["PORT(S)"] == "80/TCP"


def test_get_events_lists_an_event_created_from_a_manifest(kubectl: Kubectl) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "web.17a8b"},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": "web", "namespace": "default"},
        "reason": "Started",
        "message": "Started container web",
        "type": "Normal",
        "source": {"component": "kubelet"},
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    assert kubectl("create", "-f", "-", input=to_yaml(event)) == "event/web.17a8b created\n"
    header, rows = table(kubectl("get", "events"))
    assert header == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert len(rows) == 1
    assert rows[0][1:] == ["Normal", "Started", "pod/web", "Started container web"]
    assert re.fullmatch(r"\d+s", rows[0][0])


def test_label_and_annotate_print_what_they_did(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "nginx")
    assert kubectl("label", "deployment", "nginx", "tier=web") == "deployment.apps/nginx labeled\n"
    assert kubectl("get", "deploy", "-l", "tier=web", "-o", "name") == "deployment.apps/nginx\n"
    assert kubectl.run("get", "deploy", "-l", "tier=db").stderr == "No resources found in default namespace.\n"
    assert kubectl("annotate", "deployment", "nginx", "owner=team-a") == "deployment.apps/nginx annotated\n"
    assert kubectl("get", "deploy", "nginx", "-o", "jsonpath={.metadata.annotations.owner}") == "team-a"
    assert kubectl("label", "deployment", "nginx", "tier-") == "deployment.apps/nginx unlabeled\n"
    assert kubectl("get", "deploy", "nginx", "-o", "jsonpath={.metadata.labels}") == '{"app":"nginx"}'


def test_label_existing_key_without_overwrite_is_refused(kubectl: Kubectl) -> None:
    create_configmap(kubectl, "settings")
    kubectl("label", "cm", "settings", "tier=web")
    result = kubectl.run("label", "cm", "settings", "tier=db", check=False)
    assert result.returncode == 1
    assert result.stderr == "error: 'tier' already has a value (web), and --overwrite is false\n"
    assert kubectl("label", "cm", "settings", "tier=db", "--overwrite") == "configmap/settings labeled\n"


def test_scale_deployment_sets_spec_replicas(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "nginx")
    assert kubectl("scale", "deployment", "nginx", "--replicas=3") == "deployment.apps/nginx scaled\n"
    assert kubectl("get", "deploy", "nginx", "-o", "jsonpath={.spec.replicas}") == "3"
    assert table_rows_by_name(kubectl("get", "deploy"))["nginx"]["READY"].endswith("/3")


def test_scale_with_wrong_current_replicas_is_refused(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "nginx")
    result = kubectl.run("scale", "deployment", "nginx", "--current-replicas=5", "--replicas=3", check=False)
    assert result.returncode == 1
    assert "Expected replicas to be 5, was 1" in result.stderr
    assert kubectl("get", "deploy", "nginx", "-o", "jsonpath={.spec.replicas}") == "1"


def test_generate_name_prints_the_generated_name(kubectl: Kubectl) -> None:
    manifest = to_yaml({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "job-"}})
    first = kubectl("create", "-f", "-", input=manifest)
    second = kubectl("create", "-f", "-", input=manifest)
    pattern = r"configmap/(job-[a-z0-9]{5}) created\n"
    m1, m2 = re.fullmatch(pattern, first), re.fullmatch(pattern, second)
    assert m1 and m2, (first, second)
    assert m1.group(1) != m2.group(1)
    listed = set(kubectl("get", "cm", "-o", "name").split())
    assert {f"configmap/{m1.group(1)}", f"configmap/{m2.group(1)}"} <= listed


def test_created_objects_get_uid_creation_timestamp_and_generation(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "nginx")
    meta = json.loads(kubectl("get", "deploy", "nginx", "-o", "json"))["metadata"]
    assert UID.match(meta["uid"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["creationTimestamp"])
    assert meta["generation"] == 1
    assert meta["resourceVersion"].isdigit()


def test_generation_bumps_on_spec_change_only(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "nginx")

    def generation() -> str:
        return kubectl("get", "deploy", "nginx", "-o", "jsonpath={.metadata.generation}")

    assert generation() == "1"
    kubectl("label", "deployment", "nginx", "tier=web")
    assert generation() == "1"
    kubectl("scale", "deployment", "nginx", "--replicas=2")
    assert generation() == "2"
    kubectl("patch", "deployment", "nginx", "--subresource=status", "--type=merge", "-p",
            '{"status":{"observedGeneration":2,"replicas":0}}')
    assert generation() == "2"
    kubectl("set", "image", "deployment/nginx", "nginx=nginx:1.25")
    assert generation() == "3"
    # Deployments are the exception kube-apiserver makes: their annotations (copied to ReplicaSets) count too.
    kubectl("annotate", "deployment", "nginx", "note=hello")
    assert generation() == "4"


def test_configmap_and_pod_label_changes_do_not_set_generation(kubectl: Kubectl) -> None:
    create_configmap(kubectl, "settings", a="1")
    kubectl("label", "cm", "settings", "tier=web")
    assert kubectl("get", "cm", "settings", "-o", "jsonpath={.metadata.generation}") == ""
    kubectl("run", "web", "--image=nginx")
    kubectl("label", "pod", "web", "tier=web")
    assert kubectl("get", "pod", "web", "-o", "jsonpath={.metadata.generation}") == ""  # pods got one in 1.33


def test_uid_differs_after_delete_and_recreate(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=to_yaml(configmap("settings", {"a": "1"})))
    first = kubectl("get", "cm", "settings", "-o", "jsonpath={.metadata.uid}")
    assert kubectl("delete", "cm", "settings") == 'configmap "settings" deleted\n'
    kubectl("create", "-f", "-", input=to_yaml(configmap("settings", {"a": "1"})))
    second = kubectl("get", "cm", "settings", "-o", "jsonpath={.metadata.uid}")
    assert UID.match(first) and UID.match(second) and first != second


def test_version_reports_a_1_32_server(kubectl: Kubectl) -> None:
    out = kubectl("version")
    assert re.search(r"^Server Version: v1\.32\.\d+$", out, re.M), out
    server = json.loads(kubectl("version", "-o", "json"))["serverVersion"]
    assert (server["major"], server["minor"]) == ("1", "32")


def test_get_with_field_selector(kubectl: Kubectl) -> None:
    create_configmap(kubectl, "a")
    create_configmap(kubectl, "b")
    assert kubectl("get", "cm", "--field-selector", "metadata.name=b", "-o", "name") == "configmap/b\n"
    kubectl("run", "web", "--image=nginx")
    assert kubectl("get", "pods", "--field-selector", "status.phase=Pending", "-o", "name") == "pod/web\n"
    result = kubectl.run("get", "pods", "--field-selector", "status.phase=Running")
    assert (result.stdout, result.stderr) == ("", "No resources found in default namespace.\n")


def test_get_with_unsupported_field_selector_is_refused(kubectl: Kubectl) -> None:
    result = kubectl.run("get", "cm", "--field-selector", "data.color=blue", check=False)
    assert result.returncode == 1
    assert result.stderr == (
        'Error from server (BadRequest): Unable to find "/v1, Resource=configmaps" that match label selector "", '
        'field selector "data.color=blue": "data.color" is not a known field selector: only "metadata.name", '
        '"metadata.namespace"\n'
    )


def test_get_all_prints_pods_then_services_then_deployments(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "web")
    kubectl("expose", "deployment", "web", "--port=80")
    kubectl("run", "db", "--image=postgres")
    blocks = tables(kubectl("get", "all"))
    kinds = [rows[0][0].split("/")[0] for _, rows in blocks]
    assert kinds == ["pod", "service", "deployment.apps"]
    services = [row[0] for row in blocks[1][1]]
    assert "service/web" in services


def test_create_dry_run_server_stores_nothing(kubectl: Kubectl) -> None:
    out = kubectl("create", "--dry-run=server", "-f", "-", input=to_yaml(configmap("settings", {"a": "1"})))
    assert out == "configmap/settings created (server dry run)\n"
    assert kubectl.run("get", "cm", "settings", check=False).stderr == (
        'Error from server (NotFound): configmaps "settings" not found\n'
    )


def test_replace_prints_replaced(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=to_yaml(deployment("web", replicas=1)))
    assert kubectl("replace", "-f", "-", input=to_yaml(deployment("web", replicas=2))) == (
        "deployment.apps/web replaced\n"
    )
    assert kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.replicas}") == "2"


def test_delete_from_manifest_prints_deleted(kubectl: Kubectl) -> None:
    manifest = to_yaml(deployment("web"), configmap("settings"))
    kubectl("create", "-f", "-", input=manifest)
    assert kubectl("delete", "-f", "-", input=manifest).splitlines() == [
        'deployment.apps "web" deleted', 'configmap "settings" deleted',
    ]


def test_every_workspace_has_the_kubernetes_service(kubectl: Kubectl) -> None:
    rows = table_rows_by_name(kubectl("get", "svc"))
    assert rows["kubernetes"]["TYPE"] == "ClusterIP"
    assert rows["kubernetes"]["PORT(S)"] == "443/TCP"


def test_get_in_small_chunks_lists_everything_once(kubectl: Kubectl) -> None:
    names = [f"cm-{i}" for i in range(7)]
    kubectl("create", "-f", "-", input=to_yaml(*(configmap(n) for n in names)))
    listed = kubectl("get", "cm", "--chunk-size=2", "-o", "name").split()
    ours = [n for n in listed if n.startswith("configmap/cm-")]
    assert ours == [f"configmap/{n}" for n in names]
    _, rows = table(kubectl("get", "cm", "--chunk-size=3"))
    assert [r[0] for r in rows if r[0].startswith("cm-")] == names
