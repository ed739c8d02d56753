"""Kubernetes RBAC (rbac.authorization.k8s.io/v1), evaluated the way kube-apiserver's RBAC authorizer does it.

Clients learn a great deal from the exact behaviour of RBAC, so this follows three pieces of Kubernetes closely:

* the authorizer (`plugin/pkg/auth/authorizer/rbac/rbac.go`) and its rule resolver
  (`pkg/registry/rbac/validation/rule.go`): ClusterRoleBindings are visited first, then the RoleBindings of the
  request's namespace; the first rule that allows the request wins, and the reason names the binding, the role and
  the subject that matched (`RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "alice"`). A binding
  whose role is missing grants nothing, but the lookup error is remembered: when nothing allows the request, those
  errors become the denial reason (`RBAC: clusterrole.rbac.authorization.k8s.io "y" not found`), which
  kube-apiserver appends to its forbidden message;
* the matching helpers (`pkg/apis/rbac/v1/evaluation_helpers.go`), including their corners: a rule for `pods` does
  not cover `pods/log`, `*/scale` covers every `scale` subresource but `pods/*` is no wildcard at all, a rule with
  `resourceNames` never matches a request without a name (create, list, watch, deletecollection), and a
  `nonResourceURLs` entry ending in `*` is a prefix;
* the ClusterRole aggregation controller (`pkg/controller/clusterroleaggregation`). Kubernetes rewrites the `rules`
  of an aggregated ClusterRole in the background; Canopy has no such controller, so the index computes what the
  controller would have written: for each selector in turn, the ClusterRoles it selects in name order (never the
  role itself), their rules appended unless an equal rule is already there. Like the controller, an invalid
  selector leaves the role's stored rules alone, and so does an empty result (the controller's server-side apply
  then sends no rules at all).

The default ClusterRoles `admin`, `edit` and `view` are aggregated, as in Kubernetes 1.32: their rules come from
`system:aggregate-to-admin`, `system:aggregate-to-edit` and `system:aggregate-to-view` (and from `edit` and `view`
themselves, through the labels that chain view into edit into admin), so a workspace extends them exactly as a
cluster does, with a ClusterRole labelled `rbac.authorization.k8s.io/aggregate-to-view: "true"`. The defaults are
shared by every workspace; a workspace's own ClusterRole of the same name replaces the default.

Kubernetes visits bindings in informer order, which is unspecified; here they are visited in name order, so the
reason a request was allowed is stable. The module is pure: no I/O, nothing asynchronous. `PolicyIndex` indexes one
workspace's objects once (bindings by the user, group and service account they name, role references resolved),
so a decision looks at the user's own bindings only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from controlplane.errors import StatusError, forbidden
from controlplane.selectors import LabelSelector, from_label_selector_object, go_quote

RBAC_GROUP = "rbac.authorization.k8s.io"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
AGGREGATE_TO_ADMIN = "rbac.authorization.k8s.io/aggregate-to-admin"
AGGREGATE_TO_EDIT = "rbac.authorization.k8s.io/aggregate-to-edit"
AGGREGATE_TO_VIEW = "rbac.authorization.k8s.io/aggregate-to-view"

_ALL = "*"

_RuleJSON = dict[str, list[str]]


# --------------------------------------------------------------------------------------------------------------
# Who is asking, and for what (k8s.io/apiserver's user.Info and authorizer.Attributes)
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserInfo:
    """An authenticated user. Hashable, so that decisions can be cached by `Attributes`.

    `extra` holds the authenticator's extra fields as (key, values) pairs rather than a dict, to stay hashable.
    """

    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class Attributes:
    """One request as the authorizer sees it.

    `verb` is the Kubernetes verb for resource requests (get, list, watch, create, update, patch, delete,
    deletecollection, or a special verb such as impersonate, bind, escalate, use) and the lowercase HTTP method for
    non-resource requests, whose `path` is the URL path (`/healthz`, `/apis/apps/v1`).
    """

    user: UserInfo
    verb: str
    resource_request: bool
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""


# --------------------------------------------------------------------------------------------------------------
# Policy rules and how a request matches them
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A PolicyRule. Equal rules compare equal whatever the JSON said for empty lists (null, [] or absent)."""

    verbs: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Rule:
        def strings(key: str) -> tuple[str, ...]:
            return tuple(str(value) for value in raw.get(key) or ())

        return cls(
            strings("verbs"),
            strings("apiGroups"),
            strings("resources"),
            strings("resourceNames"),
            strings("nonResourceURLs"),
        )

    def to_dict(self) -> _RuleJSON:
        """The PolicyRule as JSON, in the field order of the Go type, empty lists left out (verbs always shown)."""
        out: _RuleJSON = {"verbs": list(self.verbs)}
        if self.api_groups:
            out["apiGroups"] = list(self.api_groups)
        if self.resources:
            out["resources"] = list(self.resources)
        if self.resource_names:
            out["resourceNames"] = list(self.resource_names)
        if self.non_resource_urls:
            out["nonResourceURLs"] = list(self.non_resource_urls)
        return out

    def allows(self, attrs: Attributes) -> bool:
        """RuleAllows: the verb, then either group, resource and name, or the non-resource URL."""
        verbs = self.verbs
        if _ALL not in verbs and attrs.verb not in verbs:
            return False
        if not attrs.resource_request:
            return _url_matches(self.non_resource_urls, attrs.path)
        groups = self.api_groups
        if _ALL not in groups and attrs.api_group not in groups:
            return False
        if not _resource_matches(self.resources, attrs.resource, attrs.subresource):
            return False
        return not self.resource_names or attrs.name in self.resource_names


def _resource_matches(rule_resources: tuple[str, ...], resource: str, subresource: str) -> bool:
    """`*`, the exact `resource[/subresource]`, or `*/subresource`. Nothing else is a wildcard: not `pods/*`."""
    if not subresource:
        return _ALL in rule_resources or resource in rule_resources
    combined = f"{resource}/{subresource}"
    any_resource = f"*/{subresource}"
    return any(r in (_ALL, combined, any_resource) for r in rule_resources)


def _url_matches(rule_urls: tuple[str, ...], path: str) -> bool:
    """`*`, the exact path, or a prefix when the rule's URL ends in `*` (every trailing `*` is stripped)."""
    for url in rule_urls:
        if url in (_ALL, path):
            return True
        if url.endswith("*") and path.startswith(url.rstrip("*")):
            return True
    return False


# --------------------------------------------------------------------------------------------------------------
# The default ClusterRoles (Kubernetes 1.32's bootstrap policy, plus Canopy's own API group)
# --------------------------------------------------------------------------------------------------------------

_READ = ("get", "list", "watch")
_WRITE = ("create", "update", "patch", "delete", "deletecollection")
_READ_WRITE = _READ + _WRITE

_CORE = ""
_APPS = "apps"
_AUTOSCALING = "autoscaling"
_BATCH = "batch"
_EXTENSIONS = "extensions"
_POLICY = "policy"
_NETWORKING = "networking.k8s.io"
_DISCOVERY = "discovery.k8s.io"
_COORDINATION = "coordination.k8s.io"
_AUTHORIZATION = "authorization.k8s.io"
_TENANCY = "tenancy.canopy.dev"
_WORKLOAD = "workload.canopy.dev"


def _rule(verbs: Iterable[str], groups: Iterable[str] = (), resources: Iterable[str] = (),
          urls: Iterable[str] = ()) -> _RuleJSON:
    """A rule as the bootstrap policy's rule builder makes it: every list sorted."""
    return Rule(
        tuple(sorted(verbs)), tuple(sorted(groups)), tuple(sorted(resources)), (), tuple(sorted(urls))
    ).to_dict()


def _cluster_role(name: str, rules: list[_RuleJSON], labels: Mapping[str, str] | None = None,
                  aggregates: str = "") -> dict[str, Any]:
    role: dict[str, Any] = {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults", **(labels or {})},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "rules": rules,
    }
    if aggregates:
        role["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {aggregates: "true"}}]}
    return role


_BOOTSTRAP_CLUSTER_ROLES: tuple[dict[str, Any], ...] = (
    # The "root" role, which can do absolutely anything.
    _cluster_role("cluster-admin", [
        _rule([_ALL], [_ALL], [_ALL]),
        _rule([_ALL], urls=[_ALL]),
    ]),
    # Namespace administrator: edit, plus the power to grant roles inside the namespace.
    _cluster_role("admin", [], aggregates=AGGREGATE_TO_ADMIN),
    # Namespace editor: every user-level action, but not roles and bindings, nor status and quota.
    _cluster_role("edit", [], {AGGREGATE_TO_ADMIN: "true"}, aggregates=AGGREGATE_TO_EDIT),
    # Namespace viewer: read-only access to what does not escalate (Secrets are left out: they hold credentials).
    _cluster_role("view", [], {AGGREGATE_TO_EDIT: "true"}, aggregates=AGGREGATE_TO_VIEW),
    _cluster_role("system:aggregate-to-admin", [
        _rule(["create"], [_AUTHORIZATION], ["localsubjectaccessreviews"]),
        _rule(_READ_WRITE, [RBAC_GROUP], ["roles", "rolebindings"]),
    ], {AGGREGATE_TO_ADMIN: "true"}),
    _cluster_role("system:aggregate-to-edit", [
        # Reading these escalates (a shell in a pod, a Secret's credentials), so view does not have them.
        _rule(_READ, [_CORE], ["pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets",
                               "services/proxy"]),
        _rule(["impersonate"], [_CORE], ["serviceaccounts"]),
        _rule(_WRITE, [_CORE], ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]),
        _rule(["create"], [_CORE], ["pods/eviction"]),
        _rule(_WRITE, [_CORE], ["replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
                                "services", "services/proxy", "persistentvolumeclaims", "configmaps", "secrets",
                                "events"]),
        _rule(["create"], [_CORE], ["serviceaccounts/token"]),
        _rule(_WRITE, [_APPS], ["statefulsets", "statefulsets/scale", "daemonsets", "deployments",
                                "deployments/scale", "deployments/rollback", "replicasets", "replicasets/scale"]),
        _rule(_WRITE, [_AUTOSCALING], ["horizontalpodautoscalers"]),
        _rule(_WRITE, [_BATCH], ["jobs", "cronjobs"]),
        _rule(_WRITE, [_EXTENSIONS], ["daemonsets", "deployments", "deployments/scale", "deployments/rollback",
                                      "ingresses", "replicasets", "replicasets/scale",
                                      "replicationcontrollers/scale", "networkpolicies"]),
        _rule(_WRITE, [_POLICY], ["poddisruptionbudgets"]),
        _rule(_WRITE, [_NETWORKING], ["networkpolicies", "ingresses"]),
        _rule(_READ_WRITE, [_COORDINATION], ["leases"]),
    ], {AGGREGATE_TO_EDIT: "true"}),
    _cluster_role("system:aggregate-to-view", [
        _rule(_READ, [_CORE], ["pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
                               "services", "services/status", "endpoints", "persistentvolumeclaims",
                               "persistentvolumeclaims/status", "configmaps"]),
        _rule(_READ, [_CORE], ["limitranges", "resourcequotas", "bindings", "events", "pods/status",
                               "resourcequotas/status", "namespaces/status", "replicationcontrollers/status",
                               "pods/log"]),
        # Read access to namespaces at the namespace scope means reading *this* namespace (a RoleBinding in
        # "default" lets `kubectl get namespace default` through, since its request names namespace "default").
        _rule(_READ, [_CORE], ["namespaces"]),
        _rule(_READ, [_DISCOVERY], ["endpointslices"]),
        _rule(_READ, [_APPS], ["controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale",
                               "daemonsets", "daemonsets/status", "deployments", "deployments/status",
                               "deployments/scale", "replicasets", "replicasets/status", "replicasets/scale"]),
        _rule(_READ, [_AUTOSCALING], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
        _rule(_READ, [_BATCH], ["jobs", "cronjobs", "cronjobs/status", "jobs/status"]),
        _rule(_READ, [_EXTENSIONS], ["daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                                     "deployments/status", "ingresses", "ingresses/status", "replicasets",
                                     "replicasets/scale", "replicasets/status", "replicationcontrollers/scale",
                                     "networkpolicies"]),
        _rule(_READ, [_POLICY], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
        _rule(_READ, [_NETWORKING], ["networkpolicies", "ingresses", "ingresses/status"]),
    ], {AGGREGATE_TO_VIEW: "true"}),
    # Canopy's own groups, aggregated the way an extension API adds itself to the default roles. Workspaces and
    # Placements are cluster-scoped, so only a ClusterRoleBinding to admin, edit or view reaches them. AccessTokens
    # and Clusters are left out: only the platform admin manages them.
    _cluster_role("system:canopy:aggregate-to-edit", [
        _rule(_WRITE, [_TENANCY], ["workspaces"]),
        _rule(_WRITE, [_WORKLOAD], ["placements"]),
    ], {AGGREGATE_TO_EDIT: "true"}),
    _cluster_role("system:canopy:aggregate-to-view", [
        _rule(_READ, [_TENANCY], ["workspaces", "workspaces/status"]),
        _rule(_READ, [_WORKLOAD], ["placements", "placements/status"]),
    ], {AGGREGATE_TO_VIEW: "true"}),
)


# --------------------------------------------------------------------------------------------------------------
# ClusterRoles by name, aggregation resolved
# --------------------------------------------------------------------------------------------------------------


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def _namespace(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "")


def _own_rules(obj: Mapping[str, Any]) -> tuple[Rule, ...]:
    return tuple(Rule.from_dict(raw) for raw in obj.get("rules") or ())


class _ClusterRoles:
    """ClusterRoles by name, with the rules the aggregation controller would have written into aggregated ones."""

    def __init__(self, objects: Mapping[str, Mapping[str, Any]]) -> None:
        self._objects = objects
        self._names = sorted(objects)  # the controller visits selected roles in name order
        self._resolved: dict[str, tuple[Rule, ...]] = {}
        self._resolving: set[str] = set()

    def rules(self, name: str) -> tuple[Rule, ...] | None:
        """The effective rules of ClusterRole `name`, or None when it does not exist."""
        found = self._resolved.get(name)
        if found is not None:
            return found
        obj = self._objects.get(name)
        if obj is None:
            return None
        aggregation = obj.get("aggregationRule")
        if aggregation is None or name in self._resolving:
            # Not aggregated, or a cycle of aggregated roles: what is stored is what the controller sees.
            rules = _own_rules(obj)
        else:
            self._resolving.add(name)
            rules = self._aggregate(name, aggregation) or _own_rules(obj)
            self._resolving.discard(name)
        self._resolved[name] = rules
        return rules

    def _aggregate(self, name: str, aggregation: Mapping[str, Any]) -> tuple[Rule, ...]:
        selectors: list[LabelSelector] = []
        for raw in aggregation.get("clusterRoleSelectors") or ():
            try:
                # A null entry decodes to the zero LabelSelector in Go, which selects everything.
                selectors.append(from_label_selector_object(raw or {}))
            except StatusError:
                return ()  # the controller gives up on the role and leaves its rules as they are
        union: list[Rule] = []
        seen: set[Rule] = set()
        for selector in selectors:
            for other in self._names:
                if other == name or not selector.matches(_labels(self._objects[other])):
                    continue
                for rule in self.rules(other) or ():
                    if rule not in seen:
                        seen.add(rule)
                        union.append(rule)
        return tuple(union)


def _with_aggregated_rules(roles: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    by_name = {_name(role): role for role in roles}
    resolved = _ClusterRoles(by_name)
    for name, role in by_name.items():
        if "aggregationRule" in role:
            role["rules"] = [rule.to_dict() for rule in resolved.rules(name) or ()]
    return by_name


# The defaults every workspace shares, as `kubectl get clusterrole <name> -o yaml` shows them in a cluster whose
# aggregation controller has run: admin, edit and view carry their aggregated rules. Read-only: never mutate.
DEFAULT_CLUSTER_ROLES: dict[str, dict[str, Any]] = _with_aggregated_rules(_BOOTSTRAP_CLUSTER_ROLES)


# --------------------------------------------------------------------------------------------------------------
# Bindings
# --------------------------------------------------------------------------------------------------------------

# How a subject is indexed: ("User", user name) or ("Group", group name). A ServiceAccount subject is indexed by
# the user name its tokens authenticate as, system:serviceaccount:<namespace>:<name>.
_SubjectKey = tuple[str, str]


@dataclass(frozen=True)
class _Subject:
    key: _SubjectKey | None  # None: a subject that can match nobody (unknown kind, service account without namespace)
    description: str  # as in the allowed reason: User "alice", Group "devs", ServiceAccount "builder/ci"

    def applies_to(self, user: UserInfo) -> bool:
        if self.key is None:
            return False
        kind, name = self.key
        return name == user.name if kind == "User" else name in user.groups


def _subject(raw: Mapping[str, Any], binding_namespace: str) -> _Subject:
    """appliesToUser and describeSubject for one subject. `binding_namespace` is "" for a ClusterRoleBinding."""
    kind = str(raw.get("kind") or "")
    name = str(raw.get("name") or "")
    if kind == "ServiceAccount":
        # A RoleBinding's service account defaults to the binding's namespace; a ClusterRoleBinding's has none.
        namespace = str(raw.get("namespace") or "") or binding_namespace
        key = ("User", f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}") if namespace else None
        return _Subject(key, f"{kind} {go_quote(f'{name}/{namespace}')}")
    key = (kind, name) if kind in ("User", "Group") else None
    return _Subject(key, f"{kind} {go_quote(name)}")


@dataclass(frozen=True)
class _Binding:
    """A RoleBinding or ClusterRoleBinding with its role reference resolved."""

    source: str  # 'ClusterRoleBinding "x" of ClusterRole "y"' or 'RoleBinding "x/ns" of Role "y"'
    subjects: tuple[_Subject, ...]
    rules: tuple[Rule, ...]
    error: str  # why the role reference did not resolve (and `rules` is empty), as the listers word it

    def first_subject(self, user: UserInfo) -> _Subject | None:
        return next((s for s in self.subjects if s.applies_to(user)), None)


def _not_found(resource: str, name: str) -> str:
    return f"{resource}.{RBAC_GROUP} {go_quote(name)} not found"


def _aggregate_errors(errors: list[str]) -> str:
    """utilerrors.NewAggregate(errs).Error(): one message as is, several distinct ones in brackets."""
    distinct = list(dict.fromkeys(errors))
    return distinct[0] if len(distinct) == 1 else "[" + ", ".join(distinct) + "]"


class _BindingTable:
    """Bindings in visiting order (by name), and which of them name each user or group."""

    def __init__(self) -> None:
        self.bindings: list[_Binding] = []
        self.by_subject: dict[_SubjectKey, list[int]] = {}

    def add(self, binding: _Binding) -> None:
        position = len(self.bindings)
        self.bindings.append(binding)
        for key in dict.fromkeys(s.key for s in binding.subjects if s.key is not None):
            self.by_subject.setdefault(key, []).append(position)

    def matching(self, user: UserInfo) -> Iterator[tuple[_Binding, _Subject]]:
        """The bindings that name the user, in visiting order, each with the first subject that matched."""
        positions = set(self.by_subject.get(("User", user.name), ()))
        for group in user.groups:
            positions.update(self.by_subject.get(("Group", group), ()))
        for position in sorted(positions):
            binding = self.bindings[position]
            subject = binding.first_subject(user)
            if subject is not None:
                yield binding, subject


# --------------------------------------------------------------------------------------------------------------
# The index of one workspace
# --------------------------------------------------------------------------------------------------------------


class PolicyIndex:
    """All RBAC objects of one workspace, indexed once; answers many questions.

    The objects are the stored JSON dicts of Roles, ClusterRoles, RoleBindings and ClusterRoleBindings. The index
    keeps no reference to them after construction, and must be rebuilt when any of them changes.
    """

    def __init__(
        self,
        roles: Iterable[Mapping[str, Any]],
        cluster_roles: Iterable[Mapping[str, Any]],
        role_bindings: Iterable[Mapping[str, Any]],
        cluster_role_bindings: Iterable[Mapping[str, Any]],
    ) -> None:
        role_rules = {(_namespace(role), _name(role)): _own_rules(role) for role in roles}
        cluster_role_objects: dict[str, Mapping[str, Any]] = {
            **DEFAULT_CLUSTER_ROLES,
            **{_name(role): role for role in cluster_roles},
        }
        resolved = _ClusterRoles(cluster_role_objects)
        self._role_rules = role_rules
        self._cluster_roles = resolved

        def resolve(role_ref: Mapping[str, Any], namespace: str) -> tuple[tuple[Rule, ...], str]:
            """GetRoleReferenceRules. `namespace` is the binding's; "" for a ClusterRoleBinding."""
            kind = str(role_ref.get("kind") or "")
            name = str(role_ref.get("name") or "")
            if kind == "Role":
                # A ClusterRoleBinding may not name a Role; the lookup in namespace "" finds nothing.
                rules = role_rules.get((namespace, name)) if namespace else None
                return (rules, "") if rules is not None else ((), _not_found("role", name))
            if kind == "ClusterRole":
                rules = resolved.rules(name)
                return (rules, "") if rules is not None else ((), _not_found("clusterrole", name))
            return (), f"unsupported role reference kind: {go_quote(kind)}"

        def binding(obj: Mapping[str, Any], namespace: str) -> _Binding:
            role_ref: Mapping[str, Any] = obj.get("roleRef") or {}
            kind = "RoleBinding" if namespace else "ClusterRoleBinding"
            shown_name = f"{_name(obj)}/{namespace}" if namespace else _name(obj)
            role_name = go_quote(str(role_ref.get("name") or ""))
            source = f"{kind} {go_quote(shown_name)} of {role_ref.get('kind') or ''} {role_name}"
            subjects = tuple(_subject(raw, namespace) for raw in obj.get("subjects") or ())
            rules, error = resolve(role_ref, namespace)
            return _Binding(source, subjects, rules, error)

        self._cluster = _BindingTable()
        for obj in sorted(cluster_role_bindings, key=_name):
            self._cluster.add(binding(obj, ""))

        self._namespaced: dict[str, _BindingTable] = {}
        for obj in sorted(role_bindings, key=lambda rb: (_namespace(rb), _name(rb))):
            namespace = _namespace(obj)
            self._namespaced.setdefault(namespace, _BindingTable()).add(binding(obj, namespace))

        self._subjects: set[_SubjectKey] = set(self._cluster.by_subject)
        for table in self._namespaced.values():
            self._subjects.update(table.by_subject)

    def _visit(self, user: UserInfo, namespace: str) -> Iterator[tuple[_Binding, _Subject]]:
        """VisitRulesFor's order: every ClusterRoleBinding, then the RoleBindings of `namespace` (if any)."""
        yield from self._cluster.matching(user)
        if namespace:
            table = self._namespaced.get(namespace)
            if table is not None:
                yield from table.matching(user)

    def allowed(self, attrs: Attributes) -> tuple[bool, str]:
        """(decision, reason), as the RBAC authorizer answers.

        Allowed: `RBAC: allowed by <binding> to <subject>`. Denied: "" normally; when some binding of the user
        names a missing role, `RBAC: <the lookup errors>`, which kube-apiserver appends to the forbidden message
        (see `describe_denial`).
        """
        # Non-resource requests carry no namespace in Kubernetes, so RoleBindings never grant them.
        namespace = attrs.namespace if attrs.resource_request else ""
        errors: list[str] = []
        for binding, subject in self._visit(attrs.user, namespace):
            if binding.error:
                errors.append(binding.error)
                continue
            for rule in binding.rules:
                if rule.allows(attrs):
                    return True, f"RBAC: allowed by {binding.source} to {subject.description}"
        return False, f"RBAC: {_aggregate_errors(errors)}" if errors else ""

    def role_rules(self, kind: str, name: str, namespace: str) -> tuple[Rule, ...] | None:
        """The effective rules of Role `namespace/name` or ClusterRole `name`; None when it does not exist."""
        if kind == "Role":
            return self._role_rules.get((namespace, name))
        return self._cluster_roles.rules(name) if kind == "ClusterRole" else None

    def rules_for(self, user: UserInfo, namespace: str) -> tuple[Rule, ...]:
        """Every rule granted to the user in `namespace` (cluster-wide rules first), duplicates kept."""
        return tuple(rule for binding, _ in self._visit(user, namespace) for rule in binding.rules)

    def _errors_for(self, user: UserInfo, namespace: str) -> list[str]:
        return [binding.error for binding, _ in self._visit(user, namespace) if binding.error]

    def has_any_binding(self, user: UserInfo) -> bool:
        """True when some RoleBinding (in any namespace) or ClusterRoleBinding names the user or one of its groups,
        whether or not the role it references exists."""
        subjects = self._subjects
        return ("User", user.name) in subjects or any(("Group", group) in subjects for group in user.groups)

    def rules_review(self, user: UserInfo, namespace: str) -> tuple[list[_RuleJSON], list[_RuleJSON]]:
        """(resourceRules, nonResourceRules) of a SelfSubjectRulesReview's status.

        As in Kubernetes, a rule is listed under resourceRules if it has resources and under nonResourceRules if it
        has URLs; nothing is merged or compacted.
        """
        resource_rules: list[_RuleJSON] = []
        non_resource_rules: list[_RuleJSON] = []
        for rule in self.rules_for(user, namespace):
            if rule.resources:
                resource_rules.append(Rule(rule.verbs, rule.api_groups, rule.resources, rule.resource_names).to_dict())
            if rule.non_resource_urls:
                non_resource_rules.append(Rule(rule.verbs, non_resource_urls=rule.non_resource_urls).to_dict())
        return resource_rules, non_resource_rules

    def rules_review_status(self, user: UserInfo, namespace: str) -> dict[str, Any]:
        """The whole SubjectRulesReviewStatus: the rules, `incomplete` (always false for RBAC) and, when some role
        could not be found, `evaluationError`."""
        resource_rules, non_resource_rules = self.rules_review(user, namespace)
        status: dict[str, Any] = {
            "resourceRules": resource_rules,
            "nonResourceRules": non_resource_rules,
            "incomplete": False,
        }
        errors = self._errors_for(user, namespace)
        if errors:
            status["evaluationError"] = _aggregate_errors(errors)
        return status


# --------------------------------------------------------------------------------------------------------------
# The forbidden message (k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go, apierrors.NewForbidden)
# --------------------------------------------------------------------------------------------------------------


def _forbidden_detail(attrs: Attributes) -> str:
    user = go_quote(attrs.user.name)
    if not attrs.resource_request:
        return f"User {user} cannot {attrs.verb} path {go_quote(attrs.path)}"
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    where = f"in the namespace {go_quote(attrs.namespace)}" if attrs.namespace else "at the cluster scope"
    group = go_quote(attrs.api_group)
    return f"User {user} cannot {attrs.verb} resource {go_quote(resource)} in API group {group} {where}"


def describe_denial(attrs: Attributes, reason: str = "") -> str:
    """kube-apiserver's message for a refused request, e.g.
    `pods "web" is forbidden: User "bob" cannot get resource "pods" in API group "" in the namespace "default"`.

    Pass the authorizer's denial `reason` to have it appended after ": ", as kube-apiserver does.
    """
    detail = _forbidden_detail(attrs)
    if reason:
        detail = f"{detail}: {reason}"
    group, resource = (attrs.api_group, attrs.resource) if attrs.resource_request else ("", "")
    if not group and not resource:
        return f"forbidden: {detail}"
    qualified = f"{resource}.{group}" if group else resource
    if attrs.name:
        return f"{qualified} {go_quote(attrs.name)} is forbidden: {detail}"
    return f"{qualified} is forbidden: {detail}"


def forbidden_error(attrs: Attributes, reason: str = "") -> StatusError:
    """The 403 Forbidden Status kube-apiserver answers, with its details (name, group, kind = the resource)."""
    error = forbidden(describe_denial(attrs, reason))
    if attrs.resource_request:
        if attrs.name:
            error.details["name"] = attrs.name
        if attrs.api_group:
            error.details["group"] = attrs.api_group
        if attrs.resource:
            error.details["kind"] = attrs.resource
    return error
