"""What a cluster's admin decides, and what tenants see of it. Every part is a real process.

- The admin gives the syncer a credential that may not create Services (no tenant may expose anything there): a
  tenant's Service is refused, and the tenant hears of it on the Service, in the cluster's words, while the
  Deployment beside it runs.
- The platform admin deletes the Cluster, gone for good: nothing upstream waits for its syncer any more. This one
  ends the module's cluster, so it comes last.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from subprocess import Popen

import pytest
import yaml

from controlplane.pki import load_or_create_ca
from tests.conftest import ApiServer, Kubectl
from tests.integration.simsupport import placed_tenant, simulated_cluster
from tests.integration.support import canopy, eventually, standalone_server

WAIT = 60.0

# What a syncer needs on its cluster, less the right to create Services.
NO_NEW_SERVICES = textwrap.dedent("""\
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: syncer-without-services}
    rules:
    - apiGroups: [""]
      resources: [namespaces, configmaps, secrets, serviceaccounts]
      verbs: [get, list, watch, create, update, patch, delete]
    - apiGroups: [""]
      resources: [services]
      verbs: [get, list, watch, update, patch, delete]
    - apiGroups: [""]
      resources: [pods, pods/log, events, nodes]
      verbs: [get, list, watch, delete]
    - apiGroups: [apps]
      resources: [deployments]
      verbs: [get, list, watch, create, update, patch, delete]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: syncer-without-services}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: syncer-without-services}
    subjects:
    - {apiGroup: rbac.authorization.k8s.io, kind: User, name: restricted-syncer}
    """)


def restricted_kubeconfig(admin: Path, pki: Path, path: Path) -> None:
    """The cluster admin's kubeconfig with a client certificate for `restricted-syncer` from the cluster's CA in
    place of the admin's, as a K3s admin would issue one."""
    cert, key = load_or_create_ca(pki).issue_client_cert("restricted-syncer")
    config = yaml.safe_load(admin.read_text())
    for entry in config["users"]:
        entry["user"] = {"client-certificate-data": base64.b64encode(cert).decode(),
                         "client-key-data": base64.b64encode(key).decode()}
    path.write_text(yaml.safe_dump(config))


@pytest.fixture(scope="module")
def restricted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiServer, Kubectl, list[Popen[bytes]]]]:
    base = tmp_path_factory.mktemp("refusals")
    with standalone_server(base / "server") as server, \
            simulated_cluster(base / "edge-9", name="edge-9", nodes=1, time_scale=0.01) as cluster:
        cluster.kubectl("apply", "-f", "-", input=NO_NEW_SERVICES)
        cluster_kubeconfig = base / "restricted.kubeconfig"
        restricted_kubeconfig(cluster.kubeconfig, cluster.data_dir / "pki", cluster_kubeconfig)
        syncer_kubeconfig = base / "syncer.kubeconfig"
        canopy("cluster", "register", "edge-9", "--kubeconfig", str(server.admin_kubeconfig),
               "--allow-workspace", "root:*", "-o", str(syncer_kubeconfig))
        with (base / "syncer.log").open("ab") as out:
            syncer = subprocess.Popen(
                [sys.executable, "-m", "controlplane.cli", "syncer", "--cluster", "edge-9", "--kubeconfig",
                 str(syncer_kubeconfig), "--cluster-kubeconfig", str(cluster_kubeconfig), "--heartbeat-seconds",
                 "0.5"], stdout=out, stderr=subprocess.STDOUT)
        try:
            yield server, cluster.kubectl, [syncer]
        finally:
            syncer.terminate()
            syncer.wait(timeout=30)


def test_a_refused_service_is_an_event_on_it_and_the_deployment_beside_it_still_runs(
        restricted: tuple[ApiServer, Kubectl, list[Popen[bytes]]], tmp_path: Path) -> None:
    server, cluster, _ = restricted
    jo = placed_tenant(server, tmp_path, "jo", cluster="edge-9")
    jo("create", "deployment", "web", "--image=nginx:1.27")
    jo("expose", "deployment", "web", "--port=80")

    def refused() -> dict[str, str] | None:
        events = json.loads(jo("get", "events", "--field-selector", "involvedObject.kind=Service", "-o",
                               "json"))["items"]
        return next((e for e in events if e["reason"] == "FailedSync"), None)

    event = eventually(refused, timeout=WAIT, what="the refusal as an Event on the Service")
    assert event["type"] == "Warning"
    assert event["involvedObject"]["name"] == "web"
    assert event["message"].startswith("cluster edge-9 refused the Service: ")
    assert 'User "restricted-syncer" cannot create resource "services"' in event["message"]
    described = jo("describe", "service", "web")
    assert "FailedSync" in described and "cluster edge-9 refused the Service" in described

    jo("rollout", "status", "deployment/web", "--timeout=60s")
    assert cluster.run("get", "services", "-A", "-l", "workload.canopy.dev/name=web", "--no-headers",
                       check=False).stdout.strip() == "", "nothing was made on the cluster"


def test_deleting_a_cluster_gone_for_good_releases_what_waited_for_its_syncer(
        restricted: tuple[ApiServer, Kubectl, list[Popen[bytes]]], tmp_path: Path) -> None:
    server, _, syncers = restricted
    kim = placed_tenant(server, tmp_path, "kim", cluster="edge-9")
    kim("create", "deployment", "api", "--image=nginx:1.27", "--replicas=2")
    kim("rollout", "status", "deployment/api", "--timeout=60s")
    assert len(kim("get", "pods", "-l", "app=api", "--no-headers").splitlines()) == 2

    for syncer in syncers:  # the cluster is gone, and its syncer with it
        syncer.terminate()
        syncer.wait(timeout=30)
    kim("delete", "deployment", "api", "--wait=false")
    held = json.loads(kim("get", "deployment", "api", "-o", "json"))
    assert held["metadata"]["finalizers"] == ["workload.canopy.dev/syncer-edge-9"], "it waits for the syncer"

    Kubectl(server.admin_kubeconfig, "root")("delete", "cluster", "edge-9")

    def released() -> bool:
        gone = kim.run("get", "deployment", "api", check=False)
        return gone.returncode != 0 and "NotFound" in gone.stderr
    eventually(released, timeout=WAIT, what="the Deployment deleted once its cluster is")
    eventually(lambda: kim.run("get", "pods", "-l", "app=api", "--no-headers", check=False).stdout.strip() == ""
               and kim.run("get", "pods", "-l", "app=api", check=False).stderr.strip()
               == "No resources found in default namespace.", timeout=WAIT, what="the gone cluster's mirrors deleted")
