"""Who wrote what: the field manager of a request, and recording its writes in `metadata.managedFields`.

Every write is attributed to a manager: the `fieldManager` query parameter (kubectl sends `kubectl-create`,
`kubectl-edit`, `kubectl-client-side-apply`, ...) or, failing that, the first word of the User-Agent, as
kube-apiserver does. The ownership bookkeeping itself is `controlplane.apply`.
"""

from __future__ import annotations

from typing import Any

from api.schema import resolve_schema
from controlplane import errors
from controlplane.apiserver.handlers.admission import admitted
from controlplane.apiserver.handlers.context import Context
from controlplane.apply import track_update
from controlplane.store import Tracker, now_rfc3339

_MAX_MANAGER_LENGTH = 128


def field_manager(ctx: Context, *, required: bool = False) -> str:
    manager = ctx.query.get("fieldManager", "")
    if not manager:
        if required:
            raise errors.bad_request(
                "PATCH, application/apply-patch+yaml: fieldManager is required for apply requests; "
                "pass ?fieldManager=<your-tool> (kubectl apply --server-side sends it for you)"
            )
        agent = ctx.request.headers.get("User-Agent", "unknown")
        manager = agent.split("/", 1)[0].strip() or "unknown"
    if len(manager) > _MAX_MANAGER_LENGTH or any(not c.isprintable() for c in manager):
        raise errors.bad_request(
            f"fieldManager must be at most {_MAX_MANAGER_LENGTH} printable characters; got {manager[:40]!r}..."
        )
    return manager


def reset_fields(subresource: str) -> tuple[str, ...]:
    """The top-level fields an endpoint ignores: status on the main resource, everything else on /status."""
    return ("spec", "metadata") if subresource == "status" else ("status",)


def tracker(ctx: Context, subresource: str = "") -> Tracker:
    """Records, on the defaulted object about to be stored, that `ctx`'s manager set what changed."""
    rt = ctx.rt
    manager = field_manager(ctx)
    schema = resolve_schema(rt.group, rt.version, rt.kind)

    def track(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
        return track_update(
            old, new, manager, schema=schema, now=now_rfc3339(), api_version=rt.api_version,
            subresource=subresource, reset_fields=reset_fields(subresource),
        )

    return admitted(ctx, track) or track
