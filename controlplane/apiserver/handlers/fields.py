"""Field validation on writes: `fieldValidation=Strict|Warn|Ignore`, as kube-apiserver applies it.

Strict refuses unknown or duplicate fields with 400 BadRequest; Warn (the server default) accepts the object and
returns one `Warning` header per problem, which kubectl prints; Ignore drops unknown fields silently. Unknown
fields are never stored in any mode: the schema is what is kept.
"""

from __future__ import annotations

from typing import Any

from controlplane.fieldvalidation import duplicate_fields, prune_unknown, unknown_fields

from api.schema import schema_for
from controlplane import errors
from controlplane.apiserver.handlers.context import Context

MODES = ("Strict", "Warn", "Ignore")


def validate_fields(ctx: Context, raw: bytes, obj: Any, *, kind: str = "") -> list[str]:
    """Check `obj` (decoded from `raw`) against the resource's schema; returns the warnings to send back."""
    mode = ctx.query.get("fieldValidation", "Warn")
    if mode not in MODES:
        raise errors.bad_request(f'fieldValidation "{mode}" is not supported: use one of Strict, Warn, Ignore')
    if mode == "Ignore" or not isinstance(obj, dict):
        return []
    rt = ctx.rt
    schema = schema_for(rt.group, rt.version, kind or rt.kind)
    problems = duplicate_fields(raw)
    if schema is not None:
        problems += unknown_fields(obj, schema)
        prune_unknown(obj, schema)
    if problems and mode == "Strict":
        raise errors.bad_request("strict decoding error: " + ", ".join(problems))
    return problems


def warning_headers(warnings: list[str]) -> dict[str, str]:
    """RFC 7234 warning headers as kube-apiserver sends them (code 299, agent "-")."""
    if not warnings:
        return {}
    return {"Warning": ", ".join(f'299 - "{w}"' for w in warnings)}
