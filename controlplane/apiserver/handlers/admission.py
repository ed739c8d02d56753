"""Checks of a write that need to know who makes it, run on the final object just before it is stored.

RBAC's escalation check (`controlplane.auth.escalation`) on Roles, ClusterRoles and their bindings, the owner
of a Workspace (whoever creates it, recorded in an annotation the workspace controller binds to cluster-admin in
the new workspace), and the place of a Cluster (root only, the platform admin's: docs/placement.md). They run
inside the store's write, after patches and defaults are applied, so a patch cannot slip past what a create would
be refused, nor rewrite the owner.
"""

from __future__ import annotations

from typing import Any

from api.types import CLUSTER, WORKSPACE, WORKSPACE_OWNER_ANNOTATION
from controlplane import errors
from controlplane.apiserver.handlers.context import Context
from controlplane.apiserver.security import AUTHORIZER_KEY, USER_KEY
from controlplane.auth.authz import RBAC_GROUP, is_master
from controlplane.auth.escalation import escalation_problem
from controlplane.auth.rbac import UserInfo
from controlplane.storage.keys import ROOT_WORKSPACE
from controlplane.store import Tracker


def admitted(ctx: Context, track: Tracker | None) -> Tracker | None:
    """`track`, preceded by the checks that apply to `ctx`'s writes (or `track` itself when none do)."""
    if (ctx.rt.group, ctx.rt.plural) == (CLUSTER.resource.group, CLUSTER.resource.plural) and ctx.ws != ROOT_WORKSPACE:
        return _root_only(ctx, track)
    user: UserInfo | None = ctx.request.get(USER_KEY)
    if user is None:
        return track
    if (ctx.rt.group, ctx.rt.plural) == (WORKSPACE.resource.group, WORKSPACE.resource.plural):
        return _owned(user, track)
    if ctx.rt.group != RBAC_GROUP or is_master(user):
        return track
    authorizer = ctx.request.app[AUTHORIZER_KEY]
    ws, resource = ctx.ws, ctx.rt.plural

    def check(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
        problem = escalation_problem(
            authorizer.policy(ws), user, resource, new, lambda attrs: authorizer.authorize(ws, attrs)[0]
        )
        if problem:
            name = (new.get("metadata") or {}).get("name", "")
            raise errors.forbidden(f'{ctx.rt.group_resource} "{name}" is forbidden: {problem}')
        return track(old, new) if track is not None else new

    return check


def _root_only(ctx: Context, track: Tracker | None) -> Tracker:
    """Clusters are the platform's: a workspace other than root cannot have one, whoever asks."""

    def refuse(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
        if old is None:
            name = (new.get("metadata") or {}).get("name", "")
            raise errors.forbidden(
                f'{ctx.rt.group_resource} "{name}" is forbidden: Clusters live in the root workspace, where the '
                f"platform admin manages them (canopy cluster register); workspace {ctx.ws} cannot have one. To run "
                "workloads on a cluster, create a Placement here"
            )
        return track(old, new) if track is not None else new

    return refuse


def _owned(user: UserInfo, track: Tracker | None) -> Tracker:
    """A new Workspace is owned by whoever creates it (an admin may name the owner); the owner never changes."""

    def stamp(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
        meta = new.setdefault("metadata", {})
        annotations = dict(meta.get("annotations") or {})
        if old is not None:
            owner = ((old.get("metadata") or {}).get("annotations") or {}).get(WORKSPACE_OWNER_ANNOTATION)
        elif is_master(user):
            owner = annotations.get(WORKSPACE_OWNER_ANNOTATION)
        else:
            owner = user.name
        annotations.pop(WORKSPACE_OWNER_ANNOTATION, None)
        if owner:
            annotations[WORKSPACE_OWNER_ANNOTATION] = owner
        if annotations:
            meta["annotations"] = annotations
        else:
            meta.pop("annotations", None)
        return track(old, new) if track is not None else new

    return stamp
