"""Regenerates the kubectl protobuf fixtures beside this file.

Each `<name>.pb` is a request body kubectl really sent, recorded by the `Recorder` of test_protobuf.py; `<name>.json`,
where kubectl can print the same object itself (`--dry-run=client -o json`), is what the body must decode to.
The commands below are the whole record of how the fixtures were made. From the repository root:

    .venv/bin/python -m tests.unit.data.protobuf.capture
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from tests.unit.test_protobuf import Recorder, protobuf_writes

HERE = Path(__file__).parent

# name: the kubectl arguments; these also print their object with --dry-run=client -o json.
PRINTABLE: dict[str, list[str]] = {
    "deployment": ["create", "deployment", "web", "--image=nginx:1.27", "--replicas=0", "--port=8080"],
    "configmap": ["create", "configmap", "settings", "--from-literal=mode=fast", "--from-file=blob={binary}"],
    "secret-generic": ["create", "secret", "generic", "creds", "--from-literal=user=admin", "--type=Opaque"],
    "secret-docker": [
        "create",
        "secret",
        "docker-registry",
        "pull",
        "--docker-server=r.example",
        "--docker-username=u",
        "--docker-password=p",
    ],
    "namespace": ["create", "namespace", "team-a"],
    "service-clusterip": ["create", "service", "clusterip", "api", "--tcp=80:8080", "--tcp=443:https"],
    "service-nodeport": ["create", "service", "nodeport", "edge", "--tcp=80:8080", "--node-port=30080"],
    "service-headless": ["create", "service", "clusterip", "db", "--clusterip=None"],
    "service-externalname": ["create", "service", "externalname", "ext", "--external-name=example.com"],
    "serviceaccount": ["create", "serviceaccount", "robot"],
    "job": ["create", "job", "once", "--image=busybox", "--", "echo", "hi"],
    "cronjob": [
        "create",
        "cronjob",
        "tick",
        "--image=busybox",
        "--schedule=*/5 * * * *",
        "--restart=OnFailure",
        "--",
        "date",
    ],
    "role": [
        "create",
        "role",
        "reader",
        "--verb=get,list",
        "--resource=pods,deployments.apps",
        "--resource-name=web",
    ],
    "clusterrole": ["create", "clusterrole", "logs", "--verb=get", "--non-resource-url=/logs/*"],
    "clusterrole-aggregated": ["create", "clusterrole", "agg", "--aggregation-rule=rbac.example.com/agg=true"],
    "rolebinding": [
        "create",
        "rolebinding",
        "readers",
        "--clusterrole=view",
        "--user=ann",
        "--group=devs",
        "--serviceaccount=default:robot",
    ],
    "clusterrolebinding": ["create", "clusterrolebinding", "admins", "--clusterrole=admin", "--user=root"],
    "quota": ["create", "quota", "small", "--hard=cpu=1,memory=1Gi,pods=2", "--scopes=BestEffort"],
    "priorityclass": [
        "create",
        "priorityclass",
        "high",
        "--value=1000",
        "--global-default",
        "--description=urgent",
        "--preemption-policy=Never",
    ],
    "pdb": ["create", "poddisruptionbudget", "keep", "--selector=app=web", "--min-available=50%"],
    "ingress": [
        "create",
        "ingress",
        "front",
        "--class=nginx",
        "--rule=foo.example/bar*=svc1:8080,tls=cert",
        "--default-backend=fallback:http",
    ],
    "autoscale": ["autoscale", "deployment", "nginx", "--min=2", "--max=5", "--cpu-percent=80"],
    "job-from-cronjob": ["create", "job", "nightly-manual", "--from=cronjob/nightly"],
}

# name: kubectl arguments for requests kubectl has no dry run for; their expected JSON is written in the tests.
OTHERS: dict[str, list[str]] = {
    "token": [
        "create",
        "token",
        "robot",
        "--audience=vault",
        "--duration=10m",
        "--bound-object-kind=Pod",
        "--bound-object-name=web-0",
        "--bound-object-uid=1234",
    ],
    "can-i": ["auth", "can-i", "get", "pods", "--subresource=log", "-n", "team-a"],
    "can-i-url": ["auth", "can-i", "get", "/logs"],
    "can-i-list": ["auth", "can-i", "--list", "-n", "team-a"],
    "whoami": ["auth", "whoami"],
    "debug-node": ["debug", "node/n1", "--image=busybox", "--profile=sysadmin"],
}

# The objects some commands read before they write; the CronJob carries a PodSpec with nearly every field.
SERVED = {
    "/apis/batch/v1/namespaces/default/cronjobs/nightly": json.loads((HERE / "served-cronjob.json").read_text()),
    "/api/v1/nodes/n1": {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}},
    "/apis/apps/v1/namespaces/default/deployments/nginx": {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "nginx", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx"}]},
            },
        },
    },
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        binary = home / "blob.bin"
        binary.write_bytes(bytes(range(256)))
        for name, args in {**PRINTABLE, **OTHERS}.items():
            args = [a.replace("{binary}", str(binary)) for a in args]
            with Recorder(SERVED) as server:
                server.kubectl(home, *args)
                if name in PRINTABLE:
                    cut = args.index("--") if "--" in args else len(args)
                    printed = server.kubectl(home, *args[:cut], "--dry-run=client", "-o", "json", *args[cut:])
                    (HERE / f"{name}.json").write_text(json.dumps(json.loads(printed.stdout), indent=2) + "\n")
                bodies = [w.body for w in protobuf_writes(server.writes)]
            if len(bodies) != 1:
                sys.exit(f"{name}: expected one protobuf request, got {len(bodies)}")
            (HERE / f"{name}.pb").write_bytes(bodies[0])
            print(f"{name}: {len(bodies[0])} bytes")


if __name__ == "__main__":
    main()
