"""How patch failures reach the client, status for status as kube-apiserver reports them.

kube-apiserver does not report every patch failure the same way, and clients (kubectl above all) print what the
server says, so the codes matter:

* a body that does not decode as the patch type's JSON shape is a 400 BadRequest;
* a JSON patch operation that cannot be applied (a failed `test`, a missing path, a malformed operation), a list of
  lists or content that contradicts `$retainKeys` in a strategic merge patch is a 422 built the way the Go client's
  `NewGenericServerResponse` builds it: a fixed message ("the server rejected our request due to an error in our
  request", which kubectl prints as "The request is invalid: ...") and the engine's own words as the one cause;
* a malformed `$retainKeys`, `$setElementOrder` or `$deleteFromPrimitiveList` directive is a 400 BadRequest;
* every other strategic merge patch error (an unknown `$patch` value, a list element without its merge key, list
  elements of different types) is returned by kube-apiserver as a bare Go error, which it reports as a 500 with an
  empty reason; kubectl prints it as "Error from server: <message>".

The messages also follow Go's wording, including Go's `%v` rendering of JSON values (`map[name:x]`), so that
what users read matches what they would read from a real cluster.
"""

from __future__ import annotations

from typing import Any

from controlplane.errors import StatusError

REJECTED = "the server rejected our request due to an error in our request"


def unprocessable(message: str) -> StatusError:
    """422 as `NewGenericServerResponse(422, ...)` builds it: a fixed summary, the detail as the only cause."""
    return StatusError(
        422,
        "Invalid",
        REJECTED,
        {"causes": [{"reason": "UnexpectedServerResponse", "message": message}]},
    )


def server_error(message: str) -> StatusError:
    """500 with no reason: what kube-apiserver answers when a patch engine returns a plain Go error."""
    return StatusError(500, "", message)


def go_value(value: Any) -> str:
    """Render a decoded JSON value as Go's `%v` renders the same value decoded into `interface{}`."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{key}:{go_value(value[key])}" for key in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_value(item) for item in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def go_type(value: Any) -> str:
    """The Go type `encoding/json` decodes a JSON value into, as `reflect.TypeOf(...)` prints it."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int):
        return "int64"
    return "float64"


def json_kind(value: Any) -> str:
    """The JSON type name `encoding/json` uses in "cannot unmarshal X into ..." errors."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    return "number"
