"""Label and field selectors, parsed and matched the way kube-apiserver does it.

Clients filter lists and watches with two query parameters, `labelSelector` and `fieldSelector`, and the
controllers select the pods they own with the `metav1.LabelSelector` object in their spec. All three have to
behave exactly like the real server, because clients depend on the corner cases: kubectl relays the server's
error text verbatim (`unable to parse requirement: ...`, `field label not supported: ...`), `x notin (a)`
matches objects that lack the label, `a=` means "the label is present and empty", and a field that a kind does
not publish is a 400 rather than a silent empty list.

The label grammar is the one of `k8s.io/apimachinery/pkg/labels`: a small lexer (keywords `in`/`notin`, the
operators `=`, `==`, `!=`, `!`, `>`, `<`, parentheses and commas) and a recursive-descent parser that
validates keys as qualified names and values as label values. Field selectors are much simpler (`=`, `==`,
`!=`, comma-separated, backslash escapes in values); what matters there is the per-kind table of fields the
server accepts and how each is read from the object.

Everything here is pure: no I/O, and errors are raised as `StatusError` (400 BadRequest) so handlers can let
them propagate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from controlplane.errors import bad_request

# --------------------------------------------------------------------------------------------------------------
# Validation of label keys and values (the rules of k8s.io/apimachinery/pkg/util/validation)
# --------------------------------------------------------------------------------------------------------------

_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME_RE = re.compile(_QUALIFIED_NAME_FMT)
_QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character"
)
_LABEL_VALUE_FMT = f"({_QUALIFIED_NAME_FMT})?"
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE_FMT)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character"
)
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = rf"{_DNS1123_LABEL_FMT}(\.{_DNS1123_LABEL_FMT})*"
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character"
)
_NAME_MAX = 63
_SUBDOMAIN_MAX = 253
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_GO_INT_RE = re.compile(r"[+-]?[0-9]+")


def _regex_error(message: str, fmt: str, *examples: str) -> str:
    """The wording of apimachinery's RegexError, including its double space before each "or"."""
    shown = "".join(f"{' or ' if i else ''}'{example}', " for i, example in enumerate(examples))
    return f"{message} (e.g. {shown}regex used for validation is '{fmt}')"


def _max_len(limit: int) -> str:
    return f"must be no more than {limit} characters"


def _subdomain_errors(value: str) -> list[str]:
    errors = []
    if len(value) > _SUBDOMAIN_MAX:
        errors.append(_max_len(_SUBDOMAIN_MAX))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errors.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errors


def qualified_name_errors(value: str) -> list[str]:
    """Why `value` is not a valid label key (`[prefix/]name`); empty when it is valid."""
    errors: list[str] = []
    parts = value.split("/")
    if len(parts) > 2:
        example = _regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        return [
            f"a qualified name {example} with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"
        ]
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            errors.extend(f"prefix part {message}" for message in _subdomain_errors(prefix))
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > _NAME_MAX:
        errors.append(f"name part {_max_len(_NAME_MAX)}")
    if not _QUALIFIED_NAME_RE.fullmatch(name):
        example = _regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        errors.append(f"name part {example}")
    return errors


def label_value_errors(value: str) -> list[str]:
    """Why `value` is not a valid label value; empty when it is valid (the empty string is valid)."""
    errors = []
    if len(value) > _NAME_MAX:
        errors.append(_max_len(_NAME_MAX))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errors.append(_regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errors


def go_quote(text: str) -> str:
    """`text` quoted the way Go's `%q` prints it, so messages read exactly like kube-apiserver's."""
    escapes = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\a": "\\a", "\b": "\\b",
               "\f": "\\f", "\v": "\\v"}
    out = []
    for char in text:
        if char in escapes:
            out.append(escapes[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _go_string_slice(values: Iterable[str] | None) -> str:
    """A `[]string` as Go's `%#v` prints it (field errors quote the offending value list this way)."""
    if not values:
        return "[]string(nil)"
    return "[]string{" + ", ".join(go_quote(v) for v in values) + "}"


def _invalid(path: str, shown_value: str, detail: str) -> str:
    """A `field.Invalid` error rendered as text: `<path>: Invalid value: <value>: <detail>`."""
    return f"{path}: Invalid value: {shown_value}: {detail}"


def _aggregate(messages: list[str]) -> str:
    """Several errors as apimachinery's aggregate prints them: bracketed, comma-joined, duplicates dropped."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


class _SelectorError(Exception):
    """An invalid selector, carrying the exact text kube-apiserver would put in its 400 response."""


# --------------------------------------------------------------------------------------------------------------
# Label selectors
# --------------------------------------------------------------------------------------------------------------


class Operator(StrEnum):
    """Requirement operators, spelled as `k8s.io/apimachinery/pkg/selection` spells them."""

    DOES_NOT_EXIST = "!"
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    IN = "in"
    NOT_EQUALS = "!="
    NOT_IN = "notin"
    EXISTS = "exists"
    GREATER_THAN = "gt"
    LESS_THAN = "lt"


_BINARY_OPERATORS = ", ".join(
    op.value
    for op in (Operator.IN, Operator.NOT_IN, Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS,
               Operator.GREATER_THAN, Operator.LESS_THAN)
)


def _go_int64(text: str) -> int | None:
    if not _GO_INT_RE.fullmatch(text):
        return None
    value = int(text)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


@dataclass(frozen=True)
class Requirement:
    """One clause of a label selector: a key, an operator and (for binary operators) values."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key, "")
        match self.operator:
            case Operator.IN | Operator.EQUALS | Operator.DOUBLE_EQUALS:
                return present and value in self.values
            case Operator.NOT_IN | Operator.NOT_EQUALS:
                return not present or value not in self.values
            case Operator.EXISTS:
                return present
            case Operator.DOES_NOT_EXIST:
                return not present
            case Operator.GREATER_THAN | Operator.LESS_THAN:
                have = _go_int64(value) if present else None
                want = _go_int64(self.values[0]) if len(self.values) == 1 else None
                if have is None or want is None:
                    return False
                return have > want if self.operator is Operator.GREATER_THAN else have < want

    def __str__(self) -> str:
        prefix = "!" if self.operator is Operator.DOES_NOT_EXIST else ""
        if self.operator in (Operator.EXISTS, Operator.DOES_NOT_EXIST):
            return f"{prefix}{self.key}"
        shown = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        match self.operator:
            case Operator.IN | Operator.NOT_IN:
                return f"{self.key} {self.operator.value} ({shown})"
            case Operator.GREATER_THAN:
                return f"{self.key}>{shown}"
            case Operator.LESS_THAN:
                return f"{self.key}<{shown}"
            case _:
                return f"{self.key}{self.operator.value}{shown}"


@dataclass(frozen=True)
class LabelSelector:
    """A conjunction of requirements. `matches_nothing` is the nil-selector case of metav1.LabelSelector."""

    requirements: tuple[Requirement, ...] = ()
    matches_nothing: bool = False

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (and so matches every object)."""
        return not self.matches_nothing and not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.matches_nothing:
            return False
        present = labels or {}
        return all(requirement.matches(present) for requirement in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)


def _new_requirement(key: str, operator: Operator, values: list[str], path: str = "") -> Requirement:
    """Build a validated requirement, failing with the aggregate message `labels.NewRequirement` produces."""
    child = f"{path}." if path else ""
    problems: list[str] = []
    key_problems = qualified_name_errors(key)
    if key_problems:
        problems.append(_invalid(f"{child}key", go_quote(key), "; ".join(key_problems)))
    values_path = f"{child}values"
    match operator:
        case Operator.IN | Operator.NOT_IN if not values:
            problems.append(_invalid(values_path, _go_string_slice(values),
                                     "for 'in', 'notin' operators, values set can't be empty"))
        case Operator.EQUALS | Operator.DOUBLE_EQUALS | Operator.NOT_EQUALS if len(values) != 1:
            problems.append(_invalid(values_path, _go_string_slice(values),
                                     "exact-match compatibility requires one single value"))
        case Operator.EXISTS | Operator.DOES_NOT_EXIST if values:
            problems.append(_invalid(values_path, _go_string_slice(values),
                                     "values set must be empty for exists and does not exist"))
        case Operator.GREATER_THAN | Operator.LESS_THAN:
            if len(values) != 1:
                problems.append(_invalid(values_path, _go_string_slice(values),
                                         "for 'Gt', 'Lt' operators, exactly one value is required"))
            problems.extend(
                _invalid(f"{values_path}[{i}]", go_quote(value),
                         "for 'Gt', 'Lt' operators, the value must be an integer")
                for i, value in enumerate(values)
                if _go_int64(value) is None
            )
    for i, value in enumerate(values):
        value_problems = label_value_errors(value)
        if value_problems:
            problems.append(_invalid(f"{values_path}[{i}][{key}]", go_quote(value), "; ".join(value_problems)))
    if problems:
        raise _SelectorError(_aggregate(problems))
    return Requirement(key, operator, tuple(values))


class _Token(Enum):
    END = "end of string"
    CLOSE_PAREN = ")"
    COMMA = ","
    BANG = "!"
    DOUBLE_EQUALS = "=="
    EQUALS = "="
    GREATER = ">"
    IDENTIFIER = "identifier"
    IN = "in"
    LESS = "<"
    NOT_EQUALS = "!="
    NOT_IN = "notin"
    OPEN_PAREN = "("


_LITERAL_TOKENS = {
    t.value: t
    for t in _Token
    if t not in (_Token.END, _Token.IDENTIFIER)
}
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")


def _lex(text: str) -> list[tuple[_Token, str]]:
    """Split a label selector into tokens, with the greedy operator scanning of the Go lexer.

    A NUL character ends the input, as it does for the Go lexer (which uses 0 as its end marker).
    """
    source = text.split("\0", 1)[0]
    tokens: list[tuple[_Token, str]] = []
    pos = 0
    while True:
        while pos < len(source) and source[pos] in _WHITESPACE:
            pos += 1
        if pos >= len(source):
            tokens.append((_Token.END, ""))
            return tokens
        if source[pos] in _SPECIAL:
            literal = source[pos]
            pos += 1
            while pos < len(source) and source[pos] in _SPECIAL and literal + source[pos] in _LITERAL_TOKENS:
                literal += source[pos]
                pos += 1
            tokens.append((_LITERAL_TOKENS[literal], literal))
            continue
        start = pos
        while pos < len(source) and source[pos] not in _SPECIAL and source[pos] not in _WHITESPACE:
            pos += 1
        word = source[start:pos]
        tokens.append((_LITERAL_TOKENS.get(word, _Token.IDENTIFIER), word))


class _LabelParser:
    """Recursive descent over the token list; `in`/`notin` read as plain identifiers where a value is due."""

    def __init__(self, text: str) -> None:
        self._tokens = _lex(text)
        self._pos = 0

    def _peek(self, *, as_value: bool = True) -> tuple[_Token, str]:
        return self._as_value(self._tokens[self._pos], as_value)

    def _next(self, *, as_value: bool = True) -> tuple[_Token, str]:
        token = self._tokens[self._pos]
        self._pos += 1
        return self._as_value(token, as_value)

    @staticmethod
    def _as_value(token: tuple[_Token, str], as_value: bool) -> tuple[_Token, str]:
        if as_value and token[0] in (_Token.IN, _Token.NOT_IN):
            return _Token.IDENTIFIER, token[1]
        return token

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            token, literal = self._peek()
            if token is _Token.END:
                return requirements
            if token not in (_Token.IDENTIFIER, _Token.BANG):
                raise _SelectorError(f"found '{literal}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self._requirement())
            except _SelectorError as err:
                raise _SelectorError(f"unable to parse requirement: {err}") from None
            token, literal = self._next()
            if token is _Token.END:
                return requirements
            if token is not _Token.COMMA:
                raise _SelectorError(f"found '{literal}', expected: ',' or 'end of string'")
            following, literal = self._peek()
            if following not in (_Token.IDENTIFIER, _Token.BANG):
                raise _SelectorError(f"found '{literal}', expected: identifier after ','")

    def _requirement(self) -> Requirement:
        negated = False
        token, key = self._next()
        if token is _Token.BANG:
            negated = True
            token, key = self._next()
        if token is not _Token.IDENTIFIER:
            raise _SelectorError(f"found '{key}', expected: identifier")
        key_problems = qualified_name_errors(key)
        if key_problems:
            raise _SelectorError(_invalid("<nil>", go_quote(key), "; ".join(key_problems)))
        if negated:
            return _new_requirement(key, Operator.DOES_NOT_EXIST, [])
        if self._peek()[0] in (_Token.END, _Token.COMMA):
            return _new_requirement(key, Operator.EXISTS, [])
        operator = self._operator()
        values = self._value_set() if operator in (Operator.IN, Operator.NOT_IN) else self._exact_value()
        return _new_requirement(key, operator, sorted(values))

    def _operator(self) -> Operator:
        token, literal = self._next(as_value=False)
        operators = {
            _Token.IN: Operator.IN,
            _Token.NOT_IN: Operator.NOT_IN,
            _Token.EQUALS: Operator.EQUALS,
            _Token.DOUBLE_EQUALS: Operator.DOUBLE_EQUALS,
            _Token.NOT_EQUALS: Operator.NOT_EQUALS,
            _Token.GREATER: Operator.GREATER_THAN,
            _Token.LESS: Operator.LESS_THAN,
        }
        if token not in operators:
            raise _SelectorError(f"found '{literal}', expected: {_BINARY_OPERATORS}")
        return operators[token]

    def _value_set(self) -> set[str]:
        token, literal = self._next()
        if token is not _Token.OPEN_PAREN:
            raise _SelectorError(f"found '{literal}' expected: '('")
        token, literal = self._peek()
        if token is _Token.CLOSE_PAREN:
            self._next()
            return {""}
        if token not in (_Token.IDENTIFIER, _Token.COMMA):
            raise _SelectorError(f"found '{literal}', expected: ',', ')' or identifier")
        values = self._identifier_list()
        self._next()
        return values

    def _identifier_list(self) -> set[str]:
        """Values up to (not including) the closing parenthesis; empty entries stand for the empty value."""
        values: set[str] = set()
        while True:
            token, literal = self._next()
            if token is _Token.IDENTIFIER:
                values.add(literal)
                following, literal = self._peek()
                if following is _Token.CLOSE_PAREN:
                    return values
                if following is not _Token.COMMA:
                    raise _SelectorError(f"found '{literal}', expected: ',' or ')'")
            elif token is _Token.COMMA:
                following = self._peek()[0]
                if not values or following in (_Token.CLOSE_PAREN, _Token.COMMA):
                    values.add("")
                if following is _Token.CLOSE_PAREN:
                    return values
            else:
                raise _SelectorError(f"found '{literal}', expected: ',', or identifier")

    def _exact_value(self) -> set[str]:
        if self._peek()[0] in (_Token.END, _Token.COMMA):
            return {""}
        token, literal = self._next()
        if token is not _Token.IDENTIFIER:
            raise _SelectorError(f"found '{literal}', expected: identifier")
        return {literal}


def _sorted_by_key(requirements: Iterable[Requirement]) -> tuple[Requirement, ...]:
    return tuple(sorted(requirements, key=lambda requirement: requirement.key))


def parse_label_selector(text: str) -> LabelSelector:
    """Parse a `labelSelector` query parameter; the empty string selects everything.

    Raises a 400 `StatusError` worded as kube-apiserver words it.
    """
    try:
        requirements = _LabelParser(text).parse()
    except _SelectorError as err:
        raise bad_request(str(err)) from None
    return LabelSelector(_sorted_by_key(requirements))


_EXPRESSION_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


def from_label_selector_object(selector: Mapping[str, Any] | None) -> LabelSelector:
    """Convert a `metav1.LabelSelector` (`matchLabels`, `matchExpressions`) into a matcher.

    As in Kubernetes, a missing (None) selector matches nothing while an empty one matches everything.
    Raises a 400 `StatusError` when a key, value or operator is invalid.
    """
    if selector is None:
        return LabelSelector(matches_nothing=True)
    match_labels: Mapping[str, str] = selector.get("matchLabels") or {}
    expressions: list[Mapping[str, Any]] = selector.get("matchExpressions") or []
    requirements: list[Requirement] = []
    try:
        for key in sorted(match_labels):
            requirements.append(_new_requirement(key, Operator.EQUALS, [str(match_labels[key])]))
        for expression in expressions:
            raw_operator = str(expression.get("operator") or "")
            operator = _EXPRESSION_OPERATORS.get(raw_operator)
            if operator is None:
                raise _SelectorError(f"{go_quote(raw_operator)} is not a valid label selector operator")
            values = [str(value) for value in expression.get("values") or []]
            requirements.append(_new_requirement(str(expression.get("key") or ""), operator, values))
    except _SelectorError as err:
        raise bad_request(str(err)) from None
    return LabelSelector(_sorted_by_key(requirements))


def format_labels(labels: Mapping[str, str] | None) -> str:
    """A label map as `k=v,k2=v2` sorted by key, or `<none>` (how printers show service selectors)."""
    text = ",".join(f"{key}={labels[key]}" for key in sorted(labels or {}))
    return text or "<none>"


# --------------------------------------------------------------------------------------------------------------
# Field selectors
# --------------------------------------------------------------------------------------------------------------

FieldGetter = Callable[[Mapping[str, Any]], str]


def _path(*keys: str) -> FieldGetter:
    """Read a nested string field, `""` when any step is missing (fields.Set returns "" for unknown keys)."""

    def get(obj: Mapping[str, Any]) -> str:
        current: Any = obj
        for key in keys:
            if not isinstance(current, Mapping):
                return ""
            current = current.get(key)
        return "" if current is None else str(current)

    return get


def _go_bool(*keys: str) -> FieldGetter:
    read = _path(*keys)
    return lambda obj: "true" if read(obj) in ("True", "true") else "false"


def _pod_ip(pod: Mapping[str, Any]) -> str:
    status = pod.get("status") or {}
    ips = status.get("podIPs") or []
    if ips:
        return str(ips[0].get("ip") or "")
    return str(status.get("podIP") or "")


def _event_source(event: Mapping[str, Any]) -> str:
    return _path("source", "component")(event) or _path("reportingComponent")(event)


def _replica_count(obj: Mapping[str, Any]) -> str:
    return str(int((obj.get("status") or {}).get("replicas") or 0))


_NAME = {"metadata.name": _path("metadata", "name")}
_NAME_AND_NAMESPACE = {**_NAME, "metadata.namespace": _path("metadata", "namespace")}


@dataclass(frozen=True)
class _KindFields:
    """The fields one kind can be selected on, and how the server words a rejection."""

    getters: Mapping[str, FieldGetter]
    aliases: Mapping[str, str]
    explicit: bool  # registered its own conversion func: "field label not supported: x"

    def resolve(self, label: str) -> str:
        resolved = self.aliases.get(label, label)
        if resolved in self.getters:
            return resolved
        if self.explicit:
            raise _SelectorError(f"field label not supported: {label}")
        raise _SelectorError(
            f'{go_quote(label)} is not a known field selector: only "metadata.name", "metadata.namespace"'
        )


_FIELDS_BY_KIND: dict[str, _KindFields] = {
    "Pod": _KindFields(
        {
            **_NAME_AND_NAMESPACE,
            "spec.nodeName": _path("spec", "nodeName"),
            "spec.restartPolicy": _path("spec", "restartPolicy"),
            "spec.schedulerName": _path("spec", "schedulerName"),
            "spec.serviceAccountName": _path("spec", "serviceAccountName"),
            "spec.hostNetwork": _go_bool("spec", "hostNetwork"),
            "status.phase": _path("status", "phase"),
            "status.podIP": _pod_ip,
            # Accepted by the server's conversion but absent from the pod's field set, so it only ever
            # compares against the empty string. Kept for fidelity.
            "status.podIPs": lambda _pod: "",
            "status.nominatedNodeName": _path("status", "nominatedNodeName"),
        },
        {"spec.host": "spec.nodeName"},
        explicit=True,
    ),
    "Event": _KindFields(
        {
            **_NAME_AND_NAMESPACE,
            **{
                f"involvedObject.{name}": _path("involvedObject", name)
                for name in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
            },
            "reason": _path("reason"),
            "reportingComponent": _path("reportingComponent"),
            "source": _event_source,
            "type": _path("type"),
        },
        {},
        explicit=True,
    ),
    "Namespace": _KindFields({**_NAME, "status.phase": _path("status", "phase")}, {}, explicit=True),
    "Node": _KindFields({**_NAME, "spec.unschedulable": _go_bool("spec", "unschedulable")}, {}, explicit=True),
    "Secret": _KindFields({**_NAME_AND_NAMESPACE, "type": _path("type")}, {}, explicit=True),
    "Service": _KindFields(
        {**_NAME_AND_NAMESPACE, "spec.clusterIP": _path("spec", "clusterIP"), "spec.type": _path("spec", "type")},
        {},
        explicit=True,
    ),
    # kube-apiserver 1.32 lists status.replicas for ReplicaSets in its docs and field set but rejects it in
    # apps/v1 (kubernetes#135136); Canopy honours the documented behaviour.
    "ReplicaSet": _KindFields({**_NAME_AND_NAMESPACE, "status.replicas": _replica_count}, {}, explicit=False),
}
_DEFAULT_FIELDS = _KindFields(_NAME_AND_NAMESPACE, {}, explicit=False)


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    value: str
    negated: bool = False

    def __str__(self) -> str:
        return f"{self.field}{'!=' if self.negated else '='}{self.value}"


@dataclass(frozen=True)
class FieldSelector:
    """A conjunction of `field=value` / `field!=value` terms over the fields a kind publishes."""

    kind: str
    requirements: tuple[FieldRequirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, obj: Mapping[str, Any]) -> bool:
        getters = _FIELDS_BY_KIND.get(self.kind, _DEFAULT_FIELDS).getters
        for requirement in self.requirements:
            equal = getters[requirement.field](obj) == requirement.value
            if equal == requirement.negated:
                return False
        return True

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not backslash-escaped; escapes stay in place for `_unescape`."""
    if not text:
        return []
    terms, start, escaped = [], 0, False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    """`(field, operator, raw value)` split at the first operator; `==` is tried before `=`."""
    for i in range(len(term)):
        for operator in ("!=", "==", "="):
            if term.startswith(operator, i):
                return term[:i], operator, term[i + len(operator):]
    return None


def _unescape(value: str) -> str:
    r"""Resolve `\\`, `\,` and `\=`; anything else escaped, or a bare `,`/`=`, is an error."""
    out, escaped = [], False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise _SelectorError(f"invalid field selector: invalid escape sequence: \\{char}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            # Go formats the offending rune with %v, i.e. as its code point.
            raise _SelectorError(f"invalid field selector: unescaped character in value: {ord(char)}")
        else:
            out.append(char)
    if escaped:
        raise _SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def parse_field_selector(text: str, kind: str) -> FieldSelector:
    """Parse a `fieldSelector` query parameter for objects of `kind`; the empty string selects everything.

    Terms are handled in sorted order, as the server does, so the first error reported is the same one.
    Raises a 400 `StatusError` for bad syntax or a field the kind does not publish.
    """
    fields = _FIELDS_BY_KIND.get(kind, _DEFAULT_FIELDS)
    try:
        parsed: list[tuple[str, str, str]] = []
        for term in sorted(_split_terms(text)):
            if not term:
                continue
            split = _split_term(term)
            if split is None:
                raise _SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
            field, operator, raw = split
            parsed.append((field, operator, _unescape(raw)))
        requirements = tuple(
            FieldRequirement(fields.resolve(field), value, negated=operator == "!=")
            for field, operator, value in parsed
        )
    except _SelectorError as err:
        raise bad_request(str(err)) from None
    return FieldSelector(kind, requirements)

