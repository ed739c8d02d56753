"""Content negotiation: which representation a client asked for, and how to read what it sent.

kubectl asks for Tables (`application/json;as=Table;v=v1;g=meta.k8s.io, application/json`), controllers for
metadata only (`as=PartialObjectMetadataList`), everyone else for plain JSON. Bodies arrive as JSON, YAML, or one
of the patch media types. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import yaml

from api import protobuf
from controlplane import errors

JSON = "application/json"
YAML = "application/yaml"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)
# kubectl's typed clients (create deployment, create configmap, auth can-i, ...) send built-in types as protobuf.
BODY_TYPES = (JSON, YAML, PROTOBUF)


@dataclass(frozen=True)
class Representation:
    """What to send back: plain objects, a Table, or metadata only."""

    as_kind: str = ""  # "", "Table", "PartialObjectMetadata", "PartialObjectMetadataList"


def _params(media_range: str) -> tuple[str, dict[str, str]]:
    media, *raw = (p.strip() for p in media_range.split(";"))
    params = {}
    for p in raw:
        k, _, v = p.partition("=")
        params[k.strip().lower()] = v.strip().strip('"')
    return media.lower(), params


def negotiate(accept: str) -> Representation:
    """Pick the first media range we can serve, in the client's order, as kube-apiserver does."""
    if not accept:
        return Representation()
    for media_range in accept.split(","):
        media, params = _params(media_range)
        if media not in (JSON, "application/*", "*/*", YAML):
            continue
        as_kind = params.get("as", "")
        if not as_kind:
            return Representation()
        if params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1") and as_kind in (
            "Table",
            "PartialObjectMetadata",
            "PartialObjectMetadataList",
        ):
            return Representation(as_kind)
    raise errors.not_acceptable(
        f"only the following media types are accepted: {JSON}, {YAML}; "
        f"with as=Table, as=PartialObjectMetadata or as=PartialObjectMetadataList (g=meta.k8s.io, v=v1); got {accept!r}"
    )


def wants_yaml(accept: str) -> bool:
    first = accept.split(",")[0] if accept else ""
    return _params(first)[0] == YAML


def media_type(content_type: str) -> str:
    return _params(content_type)[0] if content_type else ""


def decode_body(raw: bytes, content_type: str, *, allowed: tuple[str, ...] = BODY_TYPES) -> Any:
    """Parse a request body of one of the allowed media types; 415 for others, 400 for malformed input."""
    media = media_type(content_type) or JSON
    if media not in allowed:
        raise errors.unsupported_media_type(
            f"the body of the request was in an unknown format - accepted media types include: {', '.join(allowed)}"
        )
    if not raw.strip():
        raise errors.bad_request("the request body is empty; send the object as JSON or YAML")
    if media == PROTOBUF:
        return protobuf.decode(raw)
    if media in (YAML, APPLY_PATCH):
        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise errors.bad_request(f"error converting YAML to JSON: {exc}") from None
    try:
        return orjson.loads(raw)  # strict as Go's decoder: no NaN or Infinity, integers within 64 bits
    except orjson.JSONDecodeError as exc:
        raise errors.bad_request(
            f"the request body is not valid JSON: {exc}; check the file for a missing quote, comma or brace"
        ) from None
