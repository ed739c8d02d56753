"""Field validation on writes: `fieldValidation=Strict|Warn|Ignore`, as kube-apiserver applies it.

Strict refuses unknown or duplicate fields with 400 BadRequest; Warn (the server default) accepts the object and
returns one `Warning` header per problem, which kubectl prints; Ignore accepts silently. Unknown fields are never
stored, in any mode: what the schema declares is what is kept.
"""

from __future__ import annotations

from typing import Any

from multidict import CIMultiDict

from api.schema import schema_for
from controlplane import errors
from controlplane.apiserver.handlers.context import Context
from controlplane.apiserver.negotiation import APPLY_PATCH, JSON, YAML, media_type
from controlplane.fieldvalidation import duplicate_yaml_keys, prune_unknown, strict_decoding_errors, unknown_fields

MODES = ("Strict", "Warn", "Ignore")


def validate_fields(ctx: Context, obj: Any, raw: bytes | None = None) -> list[str]:
    """Check `obj` (decoded from the request body `raw`, if it was the body) against the resource's schema.

    Returns the warnings to send back; drops unknown fields from `obj`.
    """
    mode = ctx.query.get("fieldValidation", "Warn")
    if mode not in MODES:
        raise errors.bad_request(f'fieldValidation "{mode}" is not supported: use one of Strict, Warn, Ignore')
    rt = ctx.rt
    schema = schema_for(rt.group, rt.version, rt.kind)
    if schema is None or not isinstance(obj, dict):
        return []
    problems: list[str] = []
    if mode != "Ignore":
        media = media_type(ctx.request.headers.get("Content-Type", "")) or JSON
        if raw is not None and media == JSON:
            problems = strict_decoding_errors(raw, schema)
        elif raw is not None and media in (YAML, APPLY_PATCH):
            problems = duplicate_yaml_keys(raw) + unknown_fields(obj, schema)
        else:  # a patched object, or protobuf (which cannot repeat a field)
            problems = unknown_fields(obj, schema)
    prune_unknown(obj, schema)
    if problems and mode == "Strict":
        raise errors.bad_request(
            f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: strict decoding error: '
            + ", ".join(problems)
        )
    return problems


def warning_headers(warnings: list[str]) -> CIMultiDict[str]:
    """One RFC 7234 `Warning` header per problem, as kube-apiserver sends them (code 299, agent "-")."""
    headers: CIMultiDict[str] = CIMultiDict()
    for warning in warnings:
        text = warning.replace("\\", "\\\\").replace('"', '\\"')
        headers.add("Warning", f'299 - "{text}"')
    return headers
