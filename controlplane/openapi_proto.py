"""`/openapi/v2` in the protobuf encoding kubectl asks for: gnostic's `openapi.v2.Document`.

kubectl 1.32 reads the Swagger 2.0 document only as protobuf (`Accept:
application/com.github.proto-openapi.spec.v2@v1.0+protobuf`): for `explain --output=plaintext-openapiv2`, and as
the fallback for field validation and patch metadata when its OpenAPI v3 lookup fails. What it reads:

* kube-openapi `proto.NewOpenAPIData` parses every definition and fails as a whole on one bad schema: a `$ref` with
  a type, a reference to a missing definition, an array without exactly one `items` schema. It tells a kind
  (`properties` present) from a map (`type: object` without them), so the presence of a message matters, not
  only its content.
* kubectl's `NewOpenAPIData` maps each GVK to a definition through the `x-kubernetes-group-version-kind` vendor
  extension, which it reads by unmarshalling the extension's YAML text (yaml.v2) into a list of maps whose
  `group`, `version` and `kind` must all be strings: the core group has to be written `group: ""`, not left null.
* cli-runtime's v2 query-parameter check walks `paths` for the PATCH operation whose own GVK extension (a single
  map) names the kind, then that operation's query parameters for `fieldValidation`; `GetConsumes` reads the same
  operation's `consumes`.

kube-apiserver produces these bytes by handing its JSON to gnostic, which keeps every `x-` key as a `NamedAny`
holding the value re-emitted by go-yaml v3. `_yaml` writes the same text for JSON values: mappings with sorted keys
(Go's encoding/json sorted them first), nested blocks indented to the next multiple of four, and the first level
inside a `- ` item two past the dash; strings plain when go-yaml's resolver would read them back as strings,
double-quoted when it would not (`""`, `"true"`, `"1"`), single-quoted when an indicator forbids plain style.
One deliberate difference: a string with a line break is double-quoted where go-yaml writes a literal block; both
read back as the same string.

Why a hand-written wire encoder rather than message classes built with google.protobuf: the conversion from JSON is
not field-for-field. `x-` keys become vendor extensions, objects keyed by name become lists of Named* pairs, `type`
and `items` gain wrapper messages, and parameters, responses and security schemes pick a oneof branch from their
content. That logic exists whichever way the bytes are written, and with it the wire format needs only varints,
length-delimited fields and fixed64 doubles, a few lines, where descriptors would be a second copy of the same
schema to keep in step. The field numbers are interface facts of gnostic's OpenAPIv2.proto, recorded in `_TABLE`:

    Message@E: jsonKey=N[:codec] ...

where E is the message's `vendor_extension` field; codec is `str` (the default), `bool`, `int` (int64), `double`,
`any` (an `Any` carrying YAML), a message name, or `[codec]` for a repeated field; the key `*` takes every other
key of the object as a Named* pair (name = 1, value = 2) in field N. Keys the message does not have are an error,
as they are for gnostic. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

_VARINT, _FIXED64, _BYTES = 0, 1, 2

_TABLE = """
Document@16: swagger=1 info=2:Info host=3 basePath=4 schemes=5:[str] consumes=6:[str] produces=7:[str]
    paths=8:Paths definitions=9:Definitions parameters=10:ParameterDefinitions responses=11:ResponseDefinitions
    security=12:[SecurityRequirement] securityDefinitions=13:SecurityDefinitions tags=14:[Tag]
    externalDocs=15:ExternalDocs
Info@7: title=1 version=2 description=3 termsOfService=4 contact=5:Contact license=6:License
Contact@4: name=1 url=2 email=3
License@3: name=1 url=2
ExternalDocs@3: description=1 url=2
Tag@4: name=1 description=2 externalDocs=3:ExternalDocs
Paths@1: *=2:PathItem
PathItem@10: $ref=1 get=2:Operation put=3:Operation post=4:Operation delete=5:Operation options=6:Operation
    head=7:Operation patch=8:Operation parameters=9:[ParametersItem]
Operation@13: tags=1:[str] summary=2 description=3 externalDocs=4:ExternalDocs operationId=5 produces=6:[str]
    consumes=7:[str] parameters=8:[ParametersItem] responses=9:Responses schemes=10:[str] deprecated=11:bool
    security=12:[SecurityRequirement]
JsonReference: $ref=1 description=2
BodyParameter@6: description=1 name=2 in=3 required=4:bool schema=5:Schema
HeaderParameterSubSchema@22: required=1:bool in=2 description=3 name=4 type=5 format=6 items=7:PrimitivesItems
    collectionFormat=8 default=9:any maximum=10:double exclusiveMaximum=11:bool minimum=12:double
    exclusiveMinimum=13:bool maxLength=14:int minLength=15:int pattern=16 maxItems=17:int minItems=18:int
    uniqueItems=19:bool enum=20:[any] multipleOf=21:double
PathParameterSubSchema@22: required=1:bool in=2 description=3 name=4 type=5 format=6 items=7:PrimitivesItems
    collectionFormat=8 default=9:any maximum=10:double exclusiveMaximum=11:bool minimum=12:double
    exclusiveMinimum=13:bool maxLength=14:int minLength=15:int pattern=16 maxItems=17:int minItems=18:int
    uniqueItems=19:bool enum=20:[any] multipleOf=21:double
QueryParameterSubSchema@23: required=1:bool in=2 description=3 name=4 allowEmptyValue=5:bool type=6 format=7
    items=8:PrimitivesItems collectionFormat=9 default=10:any maximum=11:double exclusiveMaximum=12:bool
    minimum=13:double exclusiveMinimum=14:bool maxLength=15:int minLength=16:int pattern=17 maxItems=18:int
    minItems=19:int uniqueItems=20:bool enum=21:[any] multipleOf=22:double
FormDataParameterSubSchema@23: required=1:bool in=2 description=3 name=4 allowEmptyValue=5:bool type=6 format=7
    items=8:PrimitivesItems collectionFormat=9 default=10:any maximum=11:double exclusiveMaximum=12:bool
    minimum=13:double exclusiveMinimum=14:bool maxLength=15:int minLength=16:int pattern=17 maxItems=18:int
    minItems=19:int uniqueItems=20:bool enum=21:[any] multipleOf=22:double
PrimitivesItems@18: type=1 format=2 items=3:PrimitivesItems collectionFormat=4 default=5:any maximum=6:double
    exclusiveMaximum=7:bool minimum=8:double exclusiveMinimum=9:bool maxLength=10:int minLength=11:int pattern=12
    maxItems=13:int minItems=14:int uniqueItems=15:bool enum=16:[any] multipleOf=17:double
Header@19: type=1 format=2 items=3:PrimitivesItems collectionFormat=4 default=5:any maximum=6:double
    exclusiveMaximum=7:bool minimum=8:double exclusiveMinimum=9:bool maxLength=10:int minLength=11:int pattern=12
    maxItems=13:int minItems=14:int uniqueItems=15:bool enum=16:[any] multipleOf=17:double description=18
Responses@2: *=1:ResponseValue
Response@5: description=1 schema=2:SchemaItem headers=3:Headers examples=4:Examples
Headers: *=1:Header
Examples: *=1:any
Schema@31: $ref=1 format=2 title=3 description=4 default=5:any multipleOf=6:double maximum=7:double
    exclusiveMaximum=8:bool minimum=9:double exclusiveMinimum=10:bool maxLength=11:int minLength=12:int pattern=13
    maxItems=14:int minItems=15:int uniqueItems=16:bool maxProperties=17:int minProperties=18:int required=19:[str]
    enum=20:[any] additionalProperties=21:AdditionalPropertiesItem type=22:TypeItem items=23:ItemsItem
    allOf=24:[Schema] properties=25:Properties discriminator=26 readOnly=27:bool xml=28:Xml
    externalDocs=29:ExternalDocs example=30:any
FileSchema@10: format=1 title=2 description=3 default=4:any required=5:[str] type=6 readOnly=7:bool
    externalDocs=8:ExternalDocs example=9:any
Xml@6: name=1 namespace=2 prefix=3 attribute=4:bool wrapped=5:bool
Definitions: *=1:Schema
Properties: *=1:Schema
ParameterDefinitions: *=1:Parameter
ResponseDefinitions: *=1:Response
SecurityDefinitions: *=1:SecurityDefinitionsItem
SecurityRequirement: *=1:StringArray
BasicAuthenticationSecurity@3: type=1 description=2
ApiKeySecurity@5: type=1 name=2 in=3 description=4
Oauth2ImplicitSecurity@6: type=1 flow=2 scopes=3:Oauth2Scopes authorizationUrl=4 description=5
Oauth2PasswordSecurity@6: type=1 flow=2 scopes=3:Oauth2Scopes tokenUrl=4 description=5
Oauth2ApplicationSecurity@6: type=1 flow=2 scopes=3:Oauth2Scopes tokenUrl=4 description=5
Oauth2AccessCodeSecurity@7: type=1 flow=2 scopes=3:Oauth2Scopes authorizationUrl=4 tokenUrl=5 description=6
Oauth2Scopes: *=1:str
"""

# Fields whose zero value proto3 leaves off the wire; anything else is a message or YAML and always written.
_ZERO: dict[str, Any] = {"str": "", "bool": False, "int": 0, "double": 0.0}


@dataclass
class _Message:
    extensions: int = 0  # the vendor_extension field, 0 if the message has none
    fields: dict[str, tuple[int, str]] = field(default_factory=dict)


def _parse(table: str) -> dict[str, _Message]:
    messages: dict[str, _Message] = {}
    for entry in re.split(r"\n(?=\S)", table.strip()):
        head, _, body = entry.partition(":")
        name, _, extensions = head.partition("@")
        message = messages[name] = _Message(int(extensions or 0))
        for item in body.split():
            key, _, spec = item.partition("=")
            number, _, codec = spec.partition(":")
            message.fields[key] = (int(number), codec or "str")
    return messages


_MESSAGES = _parse(_TABLE)


def encode_openapi_v2(doc: dict[str, Any]) -> bytes:
    """The Swagger 2.0 JSON document as a serialized gnostic `openapi.v2.Document`."""
    return _body("Document", doc, "#")


# Wire format


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64s take ten bytes, as two's complement
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _delimited(number: int, payload: bytes) -> bytes:
    return _key(number, _BYTES) + _varint(len(payload)) + payload


def _field(number: int, codec: str, value: Any, where: str) -> bytes:
    """A field of a message: repeated ones element by element, proto3 scalars left off when zero."""
    if codec.startswith("["):
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list, got {type(value).__name__}")
        return b"".join(_element(number, codec[1:-1], item, f"{where}[{i}]") for i, item in enumerate(value))
    encoded = _element(number, codec, value, where)  # checks the value's type before it is compared to zero
    return b"" if codec in _ZERO and value == _ZERO[codec] else encoded


def _element(number: int, codec: str, value: Any, where: str) -> bytes:
    """One value on the wire, written even when zero (repeated elements and oneof members have presence)."""
    if codec == "str":
        return _delimited(number, _expect(value, str, where).encode())
    if codec == "bool":
        return _key(number, _VARINT) + _varint(int(_expect(value, bool, where)))
    if codec == "int":
        if isinstance(value, bool):
            raise ValueError(f"{where}: expected an integer, got a boolean")
        return _key(number, _VARINT) + _varint(_expect(value, int, where))
    if codec == "double":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where}: expected a number, got {type(value).__name__}")
        return _key(number, _FIXED64) + struct.pack("<d", value)
    if codec == "any":
        return _delimited(number, _delimited(2, _yaml(value).encode()))
    return _delimited(number, _body(codec, value, where))


def _expect(value: Any, kind: type, where: str) -> Any:
    if not isinstance(value, kind):
        raise ValueError(f"{where}: expected {kind.__name__}, got {type(value).__name__}")
    return value


# Messages


def _body(message: str, value: Any, where: str) -> bytes:
    """The serialized fields of `message` for a JSON value, in field-number order as Go writes them."""
    special = _SPECIAL.get(message)
    if special is not None:
        return special(value, where)
    spec = _MESSAGES[message]
    object_ = _expect(value, dict, where)
    parts: list[tuple[int, bytes]] = []
    extensions: list[tuple[str, Any]] = []
    for key, item in object_.items():
        inner = f"{where}/{key}"
        if spec.extensions and key.startswith("x-"):
            extensions.append((key, item))
        elif key in spec.fields:
            number, codec = spec.fields[key]
            parts.append((number, _field(number, codec, item, inner)))
        elif "*" in spec.fields:
            number, codec = spec.fields["*"]
            pair = _delimited(1, key.encode()) + _element(2, codec, item, inner)
            parts.append((number, _delimited(number, pair)))
        else:
            raise ValueError(f"{where}: {key!r} is not a field of {message}")
    for name, item in sorted(extensions, key=lambda extension: extension[0]):
        named_any = _delimited(1, name.encode()) + _element(2, "any", item, f"{where}/{name}")
        parts.append((spec.extensions, _delimited(spec.extensions, named_any)))
    parts.sort(key=lambda part: part[0])
    return b"".join(payload for _, payload in parts)


def _strings(value: Any, where: str) -> bytes:
    """TypeItem, StringArray: `value = 1` repeated; a lone string is a list of one."""
    return _field(1, "[str]", [value] if isinstance(value, str) else value, where)


def _items(value: Any, where: str) -> bytes:
    """ItemsItem: `schema = 1` repeated; Swagger allows one schema or a list of them."""
    return _field(1, "[Schema]", value if isinstance(value, list) else [value], where)


def _additional_properties(value: Any, where: str) -> bytes:
    """AdditionalPropertiesItem: oneof `schema = 1`, `boolean = 2`."""
    return _element(2, "bool", value, where) if isinstance(value, bool) else _element(1, "Schema", value, where)


def _reference_or(number: int, message: str) -> Callable[[Any, str], bytes]:
    """ParametersItem, ResponseValue: oneof the inline `message` or `json_reference = 2`."""

    def encode(value: Any, where: str) -> bytes:
        if isinstance(value, dict) and "$ref" in value:
            return _element(2, "JsonReference", value, where)
        return _element(number, message, value, where)

    return encode


def _parameter(value: Any, where: str) -> bytes:
    """Parameter: oneof `body_parameter = 1`, `non_body_parameter = 2`, told apart by `in`."""
    if _expect(value, dict, where).get("in") == "body":
        return _element(1, "BodyParameter", value, where)
    return _element(2, "NonBodyParameter", value, where)


_NON_BODY = {
    "header": (1, "HeaderParameterSubSchema"),
    "formData": (2, "FormDataParameterSubSchema"),
    "query": (3, "QueryParameterSubSchema"),
    "path": (4, "PathParameterSubSchema"),
}


def _non_body_parameter(value: Any, where: str) -> bytes:
    location = value.get("in")
    if location not in _NON_BODY:
        raise ValueError(f"{where}: a parameter in {location!r}; expected body, {', '.join(_NON_BODY)}")
    return _element(*_NON_BODY[location], value, where)


def _schema_item(value: Any, where: str) -> bytes:
    """SchemaItem: oneof `schema = 1`, `file_schema = 2` (a response of `type: file`)."""
    if isinstance(value, dict) and value.get("type") == "file":
        return _element(2, "FileSchema", value, where)
    return _element(1, "Schema", value, where)


_OAUTH2_FLOWS = {
    "implicit": (3, "Oauth2ImplicitSecurity"),
    "password": (4, "Oauth2PasswordSecurity"),
    "application": (5, "Oauth2ApplicationSecurity"),
    "accessCode": (6, "Oauth2AccessCodeSecurity"),
}


def _security_scheme(value: Any, where: str) -> bytes:
    """SecurityDefinitionsItem: one branch per `type`, and for oauth2 per `flow`."""
    kind = _expect(value, dict, where).get("type")
    if kind == "basic":
        return _element(1, "BasicAuthenticationSecurity", value, where)
    if kind == "apiKey":
        return _element(2, "ApiKeySecurity", value, where)
    if kind == "oauth2" and value.get("flow") in _OAUTH2_FLOWS:
        return _element(*_OAUTH2_FLOWS[value["flow"]], value, where)
    raise ValueError(f"{where}: unknown security scheme type {kind!r}")


_SPECIAL: dict[str, Callable[[Any, str], bytes]] = {
    "TypeItem": _strings,
    "StringArray": _strings,
    "ItemsItem": _items,
    "AdditionalPropertiesItem": _additional_properties,
    "ParametersItem": _reference_or(1, "Parameter"),
    "ResponseValue": _reference_or(1, "Response"),
    "Parameter": _parameter,
    "NonBodyParameter": _non_body_parameter,
    "SchemaItem": _schema_item,
    "SecurityDefinitionsItem": _security_scheme,
}


# YAML, as go-yaml v3 emits a node parsed from JSON


def _yaml(value: Any) -> str:
    return "".join(line + "\n" for line in _yaml_lines(value, 0))


def _yaml_lines(value: Any, indent: int) -> list[str]:
    """The block lines of a value at `indent`; the first line unindented, for the caller to place."""
    if isinstance(value, list) and value:
        lines: list[str] = []
        for item in value:
            first, *rest = _yaml_lines(item, indent + 2)
            lines += [f"{' ' * indent if lines else ''}- {first}", *rest]
        return lines
    if isinstance(value, dict) and value:
        lines = []
        nested = 4 * ((indent + 4) // 4)
        for key in sorted(value):
            item, head = value[key], f"{' ' * indent if lines else ''}{_scalar(key)}:"
            if isinstance(item, list | dict) and item:
                first, *rest = _yaml_lines(item, nested)
                lines += [head, " " * nested + first, *rest]
            else:
                lines.append(f"{head} {_yaml_lines(item, nested)[0]}")
        return lines
    if isinstance(value, list):
        return ["[]"]
    if isinstance(value, dict):
        return ["{}"]
    return [_scalar(value)]


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, str):
        return _string(value)
    raise ValueError(f"not a JSON value: {type(value).__name__}")


def _number(value: float) -> str:
    """A float as Go's encoding/json writes it: integral values without a point, exponents only far out."""
    if not math.isfinite(value):
        raise ValueError(f"not a JSON number: {value}")
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text and 1e-6 <= abs(value) < 1e21:
        return format(Decimal(text), "f")
    return text


# Plain text go-yaml's resolver reads as something other than a string.
_NOT_A_STRING = re.compile(
    r"~|null|Null|NULL|true|True|TRUE|false|False|FALSE|<<"
    r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
    r"|[-+]?(0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)"
    r"|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?"
)
_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")
_INDICATORS_BEFORE_SPACE = frozenset("-?:")
# libyaml's short escapes in double-quoted scalars; the line breaks among them also rule out the other styles.
_ESCAPES = {
    "\0": "\\0", "\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r",
    "\x1b": "\\e", '"': '\\"', "\\": "\\\\", "\x85": "\\N", "\u2028": "\\L", "\u2029": "\\P",
}  # fmt: skip
_BREAKS = frozenset("\n\r\x85\u2028\u2029")


def _string(text: str) -> str:
    if text == "" or _NOT_A_STRING.fullmatch(text) or not all(_printable(c) and c not in _BREAKS for c in text):
        return _double_quoted(text)
    if _plain_allowed(text):
        return text
    return "'" + text.replace("'", "''") + "'"


def _printable(char: str) -> bool:
    code = ord(char)
    return (
        0x20 <= code <= 0x7E
        or code == 0x85
        or 0xA0 <= code <= 0xD7FF
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
        or 0x10000 <= code <= 0x10FFFF
    )


def _plain_allowed(text: str) -> bool:
    """libyaml's scalar analysis for block context: no indicator where one would be read, no edge spaces."""
    if text.startswith(("---", "...")) or text[0] in _INDICATORS or text[0] == " " or text[-1] == " ":
        return False
    if text[0] in _INDICATORS_BEFORE_SPACE and (len(text) == 1 or text[1] == " "):
        return False
    return ": " not in text and not text.endswith(":") and " #" not in text


def _double_quoted(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif _printable(char):
            out.append(char)
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02X}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(f"\\U{ord(char):08X}")
    return '"' + "".join(out) + '"'
