"""kubectl delete: owners and dependents (cascade, orphan), finalizers, and namespaces with content."""

from __future__ import annotations

import json

from tests.conftest import Kubectl
from tests.integration.support import (
    cells,
    configmap,
    create_configmap,
    create_deployment,
    create_namespace,
    eventually,
    to_yaml,
)


def replicaset_owned_by(kubectl: Kubectl, deployment: str, name: str) -> dict:
    uid = kubectl("get", "deploy", deployment, "-o", "jsonpath={.metadata.uid}")
    labels = {"app": deployment, "pod-template-hash": "5d8f7c9b4"}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "labels": labels,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment, "uid": uid,
                                 "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}},
        },
    }


def no_resources(kubectl: Kubectl, *args: str) -> bool:
    result = kubectl.run("get", *args)
    return result.stdout == "" and result.stderr.startswith("No resources found")


def test_delete_prints_deleted_and_the_object_is_gone(kubectl: Kubectl) -> None:
    create_configmap(kubectl, "settings")
    assert kubectl("delete", "configmap", "settings") == 'configmap "settings" deleted\n'
    result = kubectl.run("get", "cm", "settings", check=False)
    assert result.stderr == 'Error from server (NotFound): configmaps "settings" not found\n'


def test_delete_missing_object_says_not_found(kubectl: Kubectl) -> None:
    result = kubectl.run("delete", "deploy", "ghost", check=False)
    assert result.returncode == 1
    assert result.stderr == 'Error from server (NotFound): deployments.apps "ghost" not found\n'
    assert kubectl("delete", "deploy", "ghost", "--ignore-not-found") == ""


def test_delete_by_label_selector_deletes_only_matching(kubectl: Kubectl) -> None:
    for name, team in (("a", "blue"), ("b", "blue"), ("c", "green")):
        kubectl("create", "-f", "-", input=to_yaml(configmap(name, labels={"team": team})))
    out = kubectl("delete", "cm", "-l", "team=blue")
    assert out.splitlines() == ['configmap "a" deleted', 'configmap "b" deleted']
    assert kubectl("get", "cm", "-l", "team", "-o", "name") == "configmap/c\n"


def test_delete_deployment_cascades_to_its_replicasets(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "web")
    rs = replicaset_owned_by(kubectl, "web", "web-5d8f7c9b4")
    assert kubectl("create", "-f", "-", input=to_yaml(rs)) == "replicaset.apps/web-5d8f7c9b4 created\n"
    assert [cells(line)[0] for line in kubectl("get", "rs").splitlines()[1:]] == ["web-5d8f7c9b4"]

    assert kubectl("delete", "deployment", "web") == 'deployment.apps "web" deleted\n'
    eventually(lambda: no_resources(kubectl, "rs"), what="the ReplicaSet to be garbage collected")
    assert kubectl.run("get", "rs").stderr == "No resources found in default namespace.\n"


def test_delete_with_cascade_orphan_keeps_replicasets_without_owner(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "web")
    kubectl("create", "-f", "-", input=to_yaml(replicaset_owned_by(kubectl, "web", "web-5d8f7c9b4")))

    assert kubectl("delete", "deployment", "web", "--cascade=orphan") == 'deployment.apps "web" deleted\n'
    assert kubectl.run("get", "deploy").stderr == "No resources found in default namespace.\n"

    def owner_refs() -> str | None:
        refs = kubectl("get", "rs", "web-5d8f7c9b4", "-o", "jsonpath={.metadata.ownerReferences}")
        return "none" if refs == "" else None

    eventually(owner_refs, what="the orphaned ReplicaSet to lose its ownerReference")
    assert kubectl("get", "rs", "-o", "name") == "replicaset.apps/web-5d8f7c9b4\n"


def test_delete_with_cascade_foreground_deletes_dependents_first(kubectl: Kubectl) -> None:
    create_deployment(kubectl, "web")
    kubectl("create", "-f", "-", input=to_yaml(replicaset_owned_by(kubectl, "web", "web-5d8f7c9b4")))
    assert kubectl("delete", "deployment", "web", "--cascade=foreground") == 'deployment.apps "web" deleted\n'
    # kubectl waited for the deployment to go; with foreground deletion the dependents went before it.
    assert no_resources(kubectl, "rs")
    assert no_resources(kubectl, "deploy")


def test_dependent_of_a_missing_owner_is_collected(kubectl: Kubectl) -> None:
    cm = configmap("orphan-child", ownerReferences=[{"apiVersion": "v1", "kind": "ConfigMap", "name": "gone",
                                                     "uid": "00000000-0000-0000-0000-000000000001"}])
    kubectl("create", "-f", "-", input=to_yaml(cm))
    eventually(lambda: kubectl.run("get", "cm", "orphan-child", check=False).returncode == 1,
               what="a dependent whose owner never existed to be garbage collected")


def test_finalizer_keeps_object_until_removed(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=to_yaml(configmap("held", finalizers=["example.com/hold"])))
    assert kubectl("delete", "cm", "held", "--wait=false") == 'configmap "held" deleted\n'
    held = json.loads(kubectl("get", "cm", "held", "-o", "json"))
    assert held["metadata"]["deletionTimestamp"]
    assert held["metadata"]["finalizers"] == ["example.com/hold"]
    kubectl("patch", "cm", "held", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    eventually(lambda: kubectl.run("get", "cm", "held", check=False).returncode == 1, what="held to go")


def test_delete_namespace_removes_it_and_its_content(kubectl: Kubectl) -> None:
    create_namespace(kubectl, "team-a")
    create_configmap(kubectl, "settings", namespace="team-a", a="b")
    create_deployment(kubectl, "web", namespace="team-a")
    assert kubectl("delete", "namespace", "team-a", "--timeout=30s") == 'namespace "team-a" deleted\n'
    result = kubectl.run("get", "ns", "team-a", check=False)
    assert result.stderr == 'Error from server (NotFound): namespaces "team-a" not found\n'
    assert kubectl.run("get", "cm", "-n", "team-a").stderr == "No resources found in team-a namespace.\n"
    assert kubectl.run("get", "deploy", "-n", "team-a").stderr == "No resources found in team-a namespace.\n"


def deleting_namespace_with_held_content(kubectl: Kubectl) -> None:
    """team-a, being deleted, holding "held" (a ConfigMap with a finalizer) after the rest of its content went."""
    create_namespace(kubectl, "team-a")
    create_configmap(kubectl, "settings", namespace="team-a", a="b")
    create_deployment(kubectl, "web", namespace="team-a")
    kubectl("create", "-n", "team-a", "-f", "-", input=to_yaml(configmap("held", finalizers=["example.com/hold"])))

    assert kubectl("delete", "namespace", "team-a", "--wait=false") == 'namespace "team-a" deleted\n'
    header, *rows = kubectl("get", "ns", "team-a").splitlines()
    assert cells(header) == ["NAME", "STATUS", "AGE"]
    assert cells(rows[0])[:2] == ["team-a", "Terminating"]

    # The namespace controller deletes what it can; "held" waits for its finalizer.
    eventually(lambda: kubectl("get", "cm", "-n", "team-a", "-o", "name") == "configmap/held\n",
               what="the namespace's other content to be deleted")
    eventually(lambda: no_resources(kubectl, "deploy", "-n", "team-a"), what="the deployment to be deleted")
    assert kubectl("get", "cm", "held", "-n", "team-a", "-o", "jsonpath={.metadata.deletionTimestamp}") != ""
    assert cells(kubectl("get", "ns", "team-a").splitlines()[1])[:2] == ["team-a", "Terminating"]


def test_deleting_a_namespace_marks_it_terminating_and_deletes_its_content(kubectl: Kubectl) -> None:
    deleting_namespace_with_held_content(kubectl)
    kubectl("patch", "cm", "held", "-n", "team-a", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    eventually(lambda: no_resources(kubectl, "cm", "-n", "team-a"), what="held to go")


def test_namespace_disappears_once_its_last_finalizer_is_removed(kubectl: Kubectl) -> None:
    deleting_namespace_with_held_content(kubectl)
    kubectl("patch", "cm", "held", "-n", "team-a", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    eventually(lambda: kubectl.run("get", "ns", "team-a", check=False).returncode == 1,
               what="the namespace to disappear")
    assert kubectl.run("get", "ns", "team-a", check=False).stderr == (
        'Error from server (NotFound): namespaces "team-a" not found\n'
    )
    assert kubectl.run("get", "cm", "-n", "team-a").stderr == "No resources found in team-a namespace.\n"


def test_creating_in_a_terminating_namespace_is_forbidden(kubectl: Kubectl) -> None:
    create_namespace(kubectl, "team-a")
    kubectl("create", "-n", "team-a", "-f", "-", input=to_yaml(configmap("held", finalizers=["example.com/hold"])))
    kubectl("delete", "namespace", "team-a", "--wait=false")
    result = kubectl.run("create", "-n", "team-a", "-f", "-", input=to_yaml(configmap("late")), check=False)
    assert result.returncode == 1
    assert result.stderr == (
        'Error from server (Forbidden): error when creating "STDIN": configmaps "late" is forbidden: unable to '
        "create new content in namespace team-a because it is being terminated\n"
    )


def test_system_namespaces_exist_and_cannot_be_deleted(kubectl: Kubectl) -> None:
    names = [cells(line)[0] for line in kubectl("get", "ns").splitlines()[1:]]
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= set(names)
    result = kubectl.run("delete", "ns", "default", check=False)
    assert result.returncode == 1
    assert result.stderr == (
        'Error from server (Forbidden): namespaces "default" is forbidden: this namespace may not be deleted\n'
    )
