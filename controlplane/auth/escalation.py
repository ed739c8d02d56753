"""RBAC's escalation check: nobody grants, through a Role or a binding, a permission they do not hold themselves.

Without it anyone allowed to write RoleBindings (the `admin` role of a namespace) could bind themselves to
`cluster-admin`. As in kube-apiserver (pkg/registry/rbac/validation), a write of a Role or ClusterRole passes when
the writer may `escalate` on it or already holds every rule in it, and a write of a binding passes when the writer
may `bind` the role it references or already holds every rule of that role — in the binding's namespace, or
cluster-wide for cluster-scoped objects. Pure: the caller supplies the workspace's policy and an authorizer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from controlplane.auth.rbac import RBAC_GROUP, Attributes, PolicyIndex, Rule, UserInfo
from controlplane.selectors import go_quote

_ALL = "*"
RBAC_RESOURCES = ("roles", "clusterroles", "rolebindings", "clusterrolebindings")


def _atoms(rule: Rule) -> Iterable[Rule]:
    """A rule broken down to one verb, group, resource and name (or URL) each, as validation.BreakdownRule does."""
    for verb in rule.verbs:
        for group in rule.api_groups:
            for resource in rule.resources:
                if rule.resource_names:
                    for name in rule.resource_names:
                        yield Rule((verb,), (group,), (resource,), (name,))
                else:
                    yield Rule((verb,), (group,), (resource,))
        for url in rule.non_resource_urls:
            yield Rule((verb,), non_resource_urls=(url,))


def _covers_resource(owned: Sequence[str], resource: str) -> bool:
    if _ALL in owned or resource in owned:
        return True
    if "/" in resource:  # pods/log is held through */log
        return f"*/{resource.split('/', 1)[1]}" in owned
    return False


def _covers_url(owned: Sequence[str], url: str) -> bool:
    return any(o in (_ALL, url) or (o.endswith("*") and url.startswith(o.rstrip("*"))) for o in owned)


def _covers(owner: Rule, atom: Rule) -> bool:
    if _ALL not in owner.verbs and atom.verbs[0] not in owner.verbs:
        return False
    if atom.non_resource_urls:
        return _covers_url(owner.non_resource_urls, atom.non_resource_urls[0])
    if _ALL not in owner.api_groups and atom.api_groups[0] not in owner.api_groups:
        return False
    if not _covers_resource(owner.resources, atom.resources[0]):
        return False
    return not owner.resource_names or (bool(atom.resource_names) and atom.resource_names[0] in owner.resource_names)


def uncovered(owned: Sequence[Rule], requested: Iterable[Rule]) -> list[Rule]:
    """The pieces of `requested` that no rule in `owned` covers (empty when the owner holds all of it)."""
    return [atom for rule in requested for atom in _atoms(rule) if not any(_covers(o, atom) for o in owned)]


def _describe(rule: Rule) -> str:
    def quoted(values: Sequence[str]) -> str:
        return "[" + " ".join(go_quote(v) for v in values) + "]"

    if rule.non_resource_urls:
        return f"{{NonResourceURLs:{quoted(rule.non_resource_urls)}, Verbs:{quoted(rule.verbs)}}}"
    names = f", ResourceNames:{quoted(rule.resource_names)}" if rule.resource_names else ""
    resources = f"APIGroups:{quoted(rule.api_groups)}, Resources:{quoted(rule.resources)}{names}"
    return f"{{{resources}, Verbs:{quoted(rule.verbs)}}}"


def escalation_problem(
    policy: PolicyIndex, user: UserInfo, resource: str, obj: Mapping[str, Any],
    allowed: Callable[[Attributes], bool],
) -> str:
    """Why writing `obj` (of RBAC `resource`) would escalate `user`'s privileges; "" when it would not."""
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace") or "") if resource in ("roles", "rolebindings") else ""
    if resource in ("roles", "clusterroles"):
        attrs = Attributes(user, "escalate", True, RBAC_GROUP, resource, namespace=namespace,
                           name=str(meta.get("name") or ""))
        if allowed(attrs):
            return ""
        requested: Sequence[Rule] = tuple(Rule.from_dict(r) for r in obj.get("rules") or () if isinstance(r, dict))
    else:
        ref = obj.get("roleRef") or {}
        kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        ref_resource = "roles" if kind == "Role" else "clusterroles"
        if allowed(Attributes(user, "bind", True, RBAC_GROUP, ref_resource, namespace=namespace, name=name)):
            return ""
        requested = policy.role_rules(kind, name, namespace) or ()
    missing = uncovered(policy.rules_for(user, namespace), requested)
    if not missing:
        return ""
    groups = "[" + " ".join(go_quote(g) for g in user.groups) + "]"
    return (
        f"user {go_quote(user.name)} (groups={groups}) is attempting to grant RBAC permissions not currently held:\n"
        + "\n".join(_describe(rule) for rule in missing)
        + "\nask someone who holds these permissions (or may `bind`/`escalate`) to make this change"
    )
