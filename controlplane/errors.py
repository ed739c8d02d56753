"""Kubernetes `kind: Status` errors.

Every failure the API server reports reaches the client as a `meta.k8s.io/v1 Status` with the code and
reason a real kube-apiserver would use, so that kubectl prints its usual `Error from server (Reason): ...`
line and the official clients map it to the right exception. Handlers raise `StatusError`; one middleware
turns it into the response. The constructors below mirror `k8s.io/apimachinery/pkg/api/errors`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Cause:
    """One entry of `details.causes`: which field is wrong and why."""

    field: str
    message: str
    type: str = "FieldValueInvalid"

    def to_dict(self) -> dict[str, str]:
        return {"reason": self.type, "message": self.message, "field": self.field}


@dataclass
class StatusError(Exception):
    code: int
    reason: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    def to_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            status["details"] = self.details
        return status


def _details(name: str | None, group: str, kind: str) -> dict[str, Any]:
    details: dict[str, Any] = {"kind": kind}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    return details


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def not_found(resource: str, name: str, group: str = "") -> StatusError:
    return StatusError(
        404,
        "NotFound",
        f'{_qualified(resource, group)} "{name}" not found',
        _details(name, group, resource),
    )


def already_exists(resource: str, name: str, group: str = "") -> StatusError:
    return StatusError(
        409,
        "AlreadyExists",
        f'{_qualified(resource, group)} "{name}" already exists',
        _details(name, group, resource),
    )


def conflict(resource: str, name: str, group: str, why: str) -> StatusError:
    return StatusError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": {why}',
        _details(name, group, resource),
    )


def stale_conflict(resource: str, name: str, group: str = "") -> StatusError:
    return conflict(
        resource,
        name,
        group,
        "the object has been modified; please apply your changes to the latest version and try again",
    )


def invalid(kind: str, name: str, group: str, causes: list[Cause]) -> StatusError:
    """422 Invalid, worded as kube-apiserver words it: one cause inline, several in brackets, repeats once."""
    parts: list[str] = []
    for c in causes:
        part = f"{c.field}: {c.message}" if c.field else f": {c.message}"
        if part not in parts:
            parts.append(part)
    summary = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    qualified_kind = f"{kind}.{group}" if group else kind
    details = _details(name, group, kind)
    details["causes"] = [c.to_dict() for c in causes]
    return StatusError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {summary}', details)


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def forbidden(message: str) -> StatusError:
    return StatusError(403, "Forbidden", message)


def method_not_allowed(message: str) -> StatusError:
    return StatusError(405, "MethodNotAllowed", message)


def gone(message: str) -> StatusError:
    return StatusError(410, "Expired", message)


def too_large(message: str) -> StatusError:
    return StatusError(413, "RequestEntityTooLarge", message)


def unsupported_media_type(message: str) -> StatusError:
    return StatusError(415, "UnsupportedMediaType", message)


def not_acceptable(message: str) -> StatusError:
    return StatusError(406, "NotAcceptable", message)


def internal(message: str) -> StatusError:
    return StatusError(500, "InternalError", message)


def timeout(message: str) -> StatusError:
    return StatusError(504, "Timeout", message)
