"""`kubectl diagnose deploy/NAME` (the `kubectl-diagnose` plugin, also `canopy diagnose`): why a Deployment's pods
fail, per cluster and per pod, with the evidence, the fix and the next commands to run.

It reads what the workspace shows (the Deployment, its mirror pods, their Events, the previous containers' last log
lines) with the official client and the user's kubeconfig, exactly as kubectl would, and runs the same rules as
the control plane's diagnosis controller (`controlplane.diagnosis`). `-o json` prints the findings for machines.

`--keep-alive` makes a copy of the Deployment, `<name>-debug`, whose containers sleep instead of running their
command and have no probes, so that a container that crashes at once can be looked into; its pods carry the label
`diagnosis.canopy.dev/debug-of=<name>` instead of the original's labels, so no Service sends them traffic and the
original's ReplicaSets never count them. The original is never changed. `--cleanup` deletes the copy.
"""

from __future__ import annotations

import copy
import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from controlplane.diagnosis import LAST_LOG_LINES, Finding, Observed, diagnose

DEBUG_LABEL = "diagnosis.canopy.dev/debug-of"
_KINDS = ("deploy", "deploys", "deployment", "deployments", "deployment.apps", "deployments.apps")


class DiagnoseError(click.ClickException):
    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def target_name(target: str) -> str:
    """The Deployment's name in `deploy/NAME` (kubectl's ways of writing it), or a bare `NAME`."""
    kind, slash, name = target.partition("/")
    if not slash:
        return target
    if kind.lower() not in _KINDS or not name:
        raise DiagnoseError(f'cannot diagnose "{target}": name a Deployment, as deploy/NAME')
    return name


def debug_copy(deployment: dict[str, Any]) -> dict[str, Any]:
    """The `--keep-alive` copy of `deployment`: one replica whose containers sleep, without probes, selected by a
    label of its own. Pure."""
    name = deployment["metadata"]["name"]
    template = copy.deepcopy((deployment.get("spec") or {}).get("template") or {})
    labels = {DEBUG_LABEL: name}
    template.setdefault("metadata", {})["labels"] = labels
    for container in (template.get("spec") or {}).get("containers") or []:
        container["command"] = ["sleep", "infinity"]
        container.pop("args", None)
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            container.pop(probe, None)
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": f"{name}-debug", "labels": labels,
                         "annotations": {DEBUG_LABEL: f"a copy of Deployment {name} kept alive by kubectl diagnose"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": template}}


def render(name: str, namespace: str, pods: list[dict[str, Any]], findings: list[Finding]) -> str:
    """What the user reads. Pure."""
    if not pods:
        return f"Deployment {name} in namespace {namespace} has no pods yet: nothing to diagnose.\n"
    failing = {p for f in findings for p in f.pods}
    lines = [f"Deployment {name} in namespace {namespace}: {len(failing)} of {len(pods)} pods failing"]
    if not findings:
        lines.append("No pod is failing.")
    for finding in findings:
        where = f" on cluster {finding.cluster}" if finding.cluster else ""
        container = f"container {finding.container}; " if finding.container else ""
        lines += ["", f"{finding.cause}{where} ({container}pods {', '.join(finding.pods)})",
                  f"  {finding.summary}", "  Evidence:", *(f"    {e}" for e in finding.evidence),
                  f"  Fix: {finding.fix}"]
        if finding.commands:
            lines += ["  Next:", *(f"    {c}" for c in finding.commands)]
    if findings:
        lines += ["", f"To look into a container that crashes at once: kubectl diagnose deploy/{name} --keep-alive"]
    return "\n".join(lines) + "\n"


class Workspace:
    """The user's cluster (a Canopy workspace, or any cluster) through their kubeconfig."""

    def __init__(self, kubeconfig: Path | None, context: str | None, namespace: str | None) -> None:
        config_file = str(kubeconfig) if kubeconfig else None
        try:
            contexts, active = config.list_kube_config_contexts(config_file=config_file)
            chosen = next((c for c in contexts if c["name"] == context), None) if context else active
            if chosen is None:
                raise DiagnoseError(f'context "{context}" is not in the kubeconfig; kubectl config get-contexts '
                                    "lists them")
            self.api = config.new_client_from_config(config_file=config_file, context=context)
        except (config.ConfigException, OSError) as exc:
            raise DiagnoseError(f"cannot read the kubeconfig: {exc}; pass --kubeconfig or set KUBECONFIG") from None
        self.namespace = namespace or (chosen.get("context") or {}).get("namespace") or "default"
        self.core, self.apps = client.CoreV1Api(self.api), client.AppsV1Api(self.api)

    def raw(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return json.loads(call(*args, _preload_content=False, **kwargs).data)
        except ApiException as exc:
            try:
                message = json.loads(exc.body or "{}").get("message") or exc.reason
            except ValueError:
                message = exc.reason
            raise DiagnoseError(f"{message} ({exc.status})") from None
        except (HTTPError, OSError) as exc:
            raise DiagnoseError(f"cannot reach the server: {exc}") from None

    def observe(self, name: str) -> Observed:
        deployment = self.raw(self.apps.read_namespaced_deployment, name, self.namespace)
        uid = deployment["metadata"]["uid"]
        in_namespace = self.raw(self.core.list_namespaced_pod, self.namespace)["items"]
        pods = [p for p in in_namespace if any(r.get("uid") == uid and r.get("controller")
                                               for r in p["metadata"].get("ownerReferences") or [])]
        names = {p["metadata"]["name"] for p in pods}
        events = [e for e in self.raw(self.core.list_namespaced_event, self.namespace)["items"]
                  if (e.get("involvedObject") or {}).get("name") in names]
        images = {c.get("image") for p in in_namespace for c in (p.get("spec") or {}).get("containers") or []
                  if any(s.get("started") for s in (p.get("status") or {}).get("containerStatuses") or [])}
        return Observed(deployment, pods, events, self.previous_logs(pods), {i for i in images if i},
                        datetime.now(UTC))

    def previous_logs(self, pods: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        for pod in pods:
            for status in (pod.get("status") or {}).get("containerStatuses") or []:
                if ((status.get("lastState") or {}).get("terminated") or {}).get("reason") != "Error":
                    continue
                try:
                    found[(pod["metadata"]["name"], status["name"])] = self.core.read_namespaced_pod_log(
                        pod["metadata"]["name"], self.namespace, container=status["name"], previous=True,
                        tail_lines=LAST_LOG_LINES)
                except (ApiException, HTTPError, OSError):
                    continue  # the cluster out of reach: diagnosed without the last words
        return found


@click.command("diagnose", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("target")
@click.option("-n", "--namespace", default=None, help="The namespace (default: the context's, or default).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              envvar="KUBECONFIG", help="The kubeconfig to use (default: $KUBECONFIG, ~/.kube/config).")
@click.option("--context", default=None, help="The kubeconfig context to use.")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--keep-alive", is_flag=True, help="Make a sleeping copy of the Deployment to look into.")
@click.option("--cleanup", is_flag=True, help="Delete the copy --keep-alive made.")
def main(target: str, namespace: str | None, kubeconfig: Path | None, context: str | None, output: str,
         keep_alive: bool, cleanup: bool) -> None:
    """Why the pods of Deployment TARGET (deploy/NAME) fail, and what to do about it."""
    name = target_name(target)
    workspace = Workspace(kubeconfig, context, namespace)
    if keep_alive or cleanup:
        keep_or_clean(workspace, name, keep=keep_alive)
        return
    observed = workspace.observe(name)
    findings = diagnose(observed)
    if output == "json":
        click.echo(json.dumps({"deployment": name, "namespace": workspace.namespace, "pods": len(observed.pods),
                               "findings": [asdict(f) for f in findings]}, indent=2))
    else:
        sys.stdout.write(render(name, workspace.namespace, list(observed.pods), findings))


def keep_or_clean(workspace: Workspace, name: str, *, keep: bool) -> None:
    debug = f"{name}-debug"
    if not keep:
        workspace.raw(workspace.apps.delete_namespaced_deployment, debug, workspace.namespace)
        click.echo(f"deployment.apps/{debug} deleted")
        return
    original = workspace.raw(workspace.apps.read_namespaced_deployment, name, workspace.namespace)
    workspace.raw(workspace.apps.create_namespaced_deployment, workspace.namespace, debug_copy(original))
    click.echo(f"deployment.apps/{debug} created: a copy of {name} whose containers sleep, without probes; "
               f"{name} itself is unchanged.\n"
               f"  kubectl get pods -l {DEBUG_LABEL}={name}        # its pod, once it runs\n"
               f"  kubectl describe pod -l {DEBUG_LABEL}={name}    # its configuration as the cluster sees it\n"
               f"  on the cluster: kubectl exec -it <pod> -- sh   # run the original command by hand\n"
               f"  kubectl diagnose deploy/{name} --cleanup         # delete the copy")
