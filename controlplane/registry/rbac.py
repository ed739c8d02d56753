"""Role, ClusterRole, RoleBinding and ClusterRoleBinding (rbac.authorization.k8s.io/v1).

`pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/strategy.go` with the rules of
`pkg/apis/rbac/validation` and the v1 defaulters. None of the four has a spec, a status or a generation: their
strategies in kube-apiserver prepare nothing, so only defaulting and validation happen here.

* Names (of the objects and of `roleRef.name`) only have to be usable as a URL path segment: not `.` or `..`, no
  `/` or `%`. RBAC checks a generateName prefix by the same rule, so a prefix of `.` is refused too.
* A rule needs verbs. It then applies either to non-resource URLs (only in a ClusterRole, and with no API
  groups, resources or resource names alongside) or to resources, in which case it needs API groups and
  resources. Nothing else about verbs or resources is checked: RBAC grants whatever strings it is given.
* A binding's `roleRef.apiGroup` defaults to the RBAC group, and so does a User or Group subject's `apiGroup`.
  The roleRef can never change: which role is granted is the binding's identity, so users who may edit a
  binding's subjects cannot turn it into a grant of another role. A ClusterRoleBinding may only refer to a
  ClusterRole, and its ServiceAccount subjects must name their namespace.

kube-apiserver validates an update by running the create-time checks twice (its `ValidateUpdate` calls
`ValidateRole` and then `ValidateRoleUpdate`, which calls `ValidateRole` again), so `details.causes` lists each
problem twice; the message is the same either way because the aggregate drops repeats. Canopy reports each
cause once. The escalation check of kube-apiserver's RBAC storage (a user may only grant permissions they hold)
needs users and an authorizer, which come with issue 3 (TLS, users and RBAC).
"""

from __future__ import annotations

from typing import Any

from controlplane.errors import Cause
from controlplane.registry import field as f
from controlplane.registry.base import Object, Strategy
from controlplane.registry.formats import name_is_dns_subdomain, name_is_path_segment
from controlplane.registry.meta import selector_is_convertible, validate_label_selector
from controlplane.registry.values import as_dict, as_list, as_str, child_dict, dicts

GROUP = "rbac.authorization.k8s.io"
SUBJECT_KINDS = ("ServiceAccount", "User", "Group")
CANNOT_CHANGE_ROLE_REF = "cannot change roleRef"
MIXED_RULE = "rules cannot apply to both regular resources and non-resource URLs"
# What `field.Invalid` prints for the nil selector `LabelSelectorAsSelector` returns on failure.
_NIL_SELECTOR = f.GoLiteral('"null"')


def rbac_name(name: str, prefix: bool) -> list[str]:
    """`ValidateRBACName`: the path-segment rule, applied to a generateName prefix as to a whole name."""
    return name_is_path_segment(name, False)


def validate_policy_rule(rule: dict[str, Any], *, namespaced: bool, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if not as_list(rule.get("verbs")):
        causes.append(f.required(f.child(path, "verbs"), "verbs must contain at least one value"))
    urls = as_list(rule.get("nonResourceURLs"))
    api_groups, resources = as_list(rule.get("apiGroups")), as_list(rule.get("resources"))
    if urls:
        urls_path, shown = f.child(path, "nonResourceURLs"), f.go_string_slice(urls)
        if namespaced:
            causes.append(f.invalid(urls_path, shown, "namespaced rules cannot apply to non-resource URLs"))
        if api_groups or resources or as_list(rule.get("resourceNames")):
            causes.append(f.invalid(urls_path, shown, MIXED_RULE))
        return causes
    if not api_groups:
        causes.append(f.required(f.child(path, "apiGroups"), "resource rules must supply at least one api group"))
    if not resources:
        causes.append(f.required(f.child(path, "resources"), "resource rules must supply at least one resource"))
    return causes


def validate_rules(obj: Object, *, namespaced: bool) -> list[Cause]:
    causes: list[Cause] = []
    for i, rule in enumerate(dicts(obj.get("rules"))):
        causes.extend(validate_policy_rule(rule, namespaced=namespaced, path=f.index("rules", i)))
    return causes


def validate_aggregation_rule(obj: Object) -> list[Cause]:
    """A ClusterRole whose rules the aggregation controller assembles from the ClusterRoles its selectors pick."""
    aggregation = obj.get("aggregationRule")
    if not isinstance(aggregation, dict):
        return []
    path = "aggregationRule.clusterRoleSelectors"
    selectors = as_list(aggregation.get("clusterRoleSelectors"))
    if not selectors:
        return [f.required(path, "at least one clusterRoleSelector required if aggregationRule is non-nil")]
    causes: list[Cause] = []
    for i, selector in enumerate(selectors):
        causes.extend(validate_label_selector(selector, f.index(path, i)))
        if not selector_is_convertible(selector):
            causes.append(f.invalid(f.index(path, i), _NIL_SELECTOR, "invalid label selector."))
    return causes


def validate_role_ref(ref: dict[str, Any], kinds: tuple[str, ...]) -> list[Cause]:
    causes: list[Cause] = []
    api_group, kind, name = as_str(ref.get("apiGroup")), as_str(ref.get("kind")), as_str(ref.get("name"))
    if api_group != GROUP:
        causes.append(f.not_supported("roleRef.apiGroup", api_group, (GROUP,)))
    if kind not in kinds:
        causes.append(f.not_supported("roleRef.kind", kind, kinds))
    if not name:
        causes.append(f.required("roleRef.name"))
    else:
        causes.extend(f.invalid("roleRef.name", name, msg) for msg in rbac_name(name, False))
    return causes


def validate_subject(subject: dict[str, Any], *, namespaced: bool, path: str) -> list[Cause]:
    causes: list[Cause] = []
    name, api_group = as_str(subject.get("name")), as_str(subject.get("apiGroup"))
    if not name:
        causes.append(f.required(f.child(path, "name")))
    match as_str(subject.get("kind")):
        case "ServiceAccount":
            if name:
                causes.extend(f.invalid(f.child(path, "name"), name, m) for m in name_is_dns_subdomain(name, False))
            if api_group:
                causes.append(f.not_supported(f.child(path, "apiGroup"), api_group, ("",)))
            if not namespaced and not as_str(subject.get("namespace")):
                causes.append(f.required(f.child(path, "namespace")))
        case "User" | "Group":
            if api_group != GROUP:
                causes.append(f.not_supported(f.child(path, "apiGroup"), api_group, (GROUP,)))
        case kind:
            causes.append(f.not_supported(f.child(path, "kind"), kind, SUBJECT_KINDS))
    return causes


_ROLE_REF_FIELDS = (("APIGroup", "apiGroup"), ("Kind", "kind"), ("Name", "name"))


def _role_ref_literal(ref: dict[str, Any]) -> f.GoLiteral:
    """`%#v` of the internal `rbac.RoleRef`, the value the immutability error shows."""
    fields = ", ".join(f"{go}:{f.go_quote(as_str(ref.get(json)))}" for go, json in _ROLE_REF_FIELDS)
    return f.GoLiteral(f"rbac.RoleRef{{{fields}}}")


class RbacStrategy(Strategy):
    """The four kinds: no spec, status or generation; names are path segments."""

    group = GROUP
    name_validator = staticmethod(rbac_name)


class RoleStrategy(RbacStrategy):
    kind = "Role"

    def validate_object(self, obj: Object) -> list[Cause]:
        return validate_rules(obj, namespaced=True)


class ClusterRoleStrategy(RbacStrategy):
    kind = "ClusterRole"
    namespaced = False

    def validate_object(self, obj: Object) -> list[Cause]:
        return validate_rules(obj, namespaced=False) + validate_aggregation_rule(obj)


class BindingStrategy(RbacStrategy):
    """What RoleBindings and ClusterRoleBindings share: defaulted group names, roleRef and subject rules."""

    role_ref_kinds: tuple[str, ...] = ()

    def default(self, obj: Object) -> None:
        ref = child_dict(obj, "roleRef")
        if not as_str(ref.get("apiGroup")):
            ref["apiGroup"] = GROUP
        # A ServiceAccount subject's group is the core group, "": nothing to fill in.
        for subject in dicts(obj.get("subjects")):
            if subject.get("kind") in ("User", "Group") and not as_str(subject.get("apiGroup")):
                subject["apiGroup"] = GROUP

    def validate_object(self, obj: Object) -> list[Cause]:
        causes = validate_role_ref(as_dict(obj.get("roleRef")), self.role_ref_kinds)
        for i, subject in enumerate(dicts(obj.get("subjects"))):
            causes.extend(validate_subject(subject, namespaced=bool(self.namespaced), path=f.index("subjects", i)))
        return causes

    def validate_object_update(self, obj: Object, old: Object) -> list[Cause]:
        ref, old_ref = as_dict(obj.get("roleRef")), as_dict(old.get("roleRef"))
        if all(as_str(ref.get(name)) == as_str(old_ref.get(name)) for _, name in _ROLE_REF_FIELDS):
            return []
        return [f.invalid("roleRef", _role_ref_literal(ref), CANNOT_CHANGE_ROLE_REF)]


class RoleBindingStrategy(BindingStrategy):
    kind = "RoleBinding"
    role_ref_kinds = ("Role", "ClusterRole")


class ClusterRoleBindingStrategy(BindingStrategy):
    kind = "ClusterRoleBinding"
    namespaced = False
    role_ref_kinds = ("ClusterRole",)
