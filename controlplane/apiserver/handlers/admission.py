"""Checks of a write that need to know who makes it, run on the final object just before it is stored.

Today: RBAC's escalation check (`controlplane.auth.escalation`) on Roles, ClusterRoles and their bindings. It runs
inside the store's write, after patches and defaults are applied, so a patch cannot slip past what a create would
be refused.
"""

from __future__ import annotations

from typing import Any

from controlplane import errors
from controlplane.apiserver.handlers.context import Context
from controlplane.apiserver.security import AUTHORIZER_KEY, USER_KEY
from controlplane.auth.authz import RBAC_GROUP, is_master
from controlplane.auth.escalation import escalation_problem
from controlplane.auth.rbac import UserInfo
from controlplane.store import Tracker


def admitted(ctx: Context, track: Tracker | None) -> Tracker | None:
    """`track`, preceded by the checks that apply to `ctx`'s writes (or `track` itself when none do)."""
    user: UserInfo | None = ctx.request.get(USER_KEY)
    if ctx.rt.group != RBAC_GROUP or user is None or is_master(user):
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
