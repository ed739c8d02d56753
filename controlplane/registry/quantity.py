"""Resource quantities (`128Mi`, `500m`, `1e3`, `0.5`): parsing, comparing and printing them as Kubernetes does.

`k8s.io/apimachinery/pkg/api/resource.Quantity` is what every CPU and memory figure in the API is. The server
does three things with one that clients can observe, and Canopy has to do the same:

* it rejects a malformed one while decoding the body (a 400, with the texts of `QuantityError` below);
* it compares them by value, so `requests.memory: 1Gi` against `limits.memory: 1024Mi` is fine and a request
  above its limit is refused;
* it stores and returns them in canonical form: `1024Mi` comes back as `1Gi`, `0.5` as `500m`, `1.5Gi` as
  `1536Mi`, `1000` as `1k`. The suffix family (decimal SI, binary SI, or `e` exponent) of the input is kept.

Values are exact (a `Fraction`); like the Go type, anything finer than a nano-unit is rounded away from zero to
the next nano-unit, and binary-SI amounts are capped at 2^63-1. `parse_quantity` is the reusable entry point: the
rest of Canopy compares memory limits with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import total_ordering

FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
SUFFIX_ERROR = "unable to parse quantity's suffix"

DECIMAL_SI = "DecimalSI"
BINARY_SI = "BinarySI"
DECIMAL_EXPONENT = "DecimalExponent"

_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_BY_EXPONENT = {e: s for s, e in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_EXPONENT = {0: "", **{e: s for s, e in _BINARY_SUFFIXES.items()}}
_SUFFIX_CHARS = set("eEinumkKMGTP")
_NANO = 10**9
_MAX_BINARY = 2**63 - 1


class QuantityError(ValueError):
    """A string that is not a quantity; `str(err)` is kube-apiserver's wording."""


@total_ordering
@dataclass(frozen=True, eq=False)
class Quantity:
    value: Fraction
    format: str = DECIMAL_SI

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantity) and self.value == other.value

    def __lt__(self, other: Quantity) -> bool:
        return self.value < other.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __str__(self) -> str:
        return _canonical(self.value, self.format)

    def int_value(self) -> int:
        """`Quantity.Value()`: whole units, rounded away from zero."""
        return _away_from_zero(self.value)

    def milli_value(self) -> int:
        """`Quantity.MilliValue()`: thousandths, rounded away from zero."""
        return _away_from_zero(self.value * 1000)


def _away_from_zero(v: Fraction) -> int:
    return math.ceil(v) if v >= 0 else math.floor(v)


def _split(text: str) -> tuple[bool, str, str, str]:
    """Go's `parseQuantityString`: (positive, integer digits, fraction digits, suffix)."""
    positive = True
    pos, end = 0, len(text)
    if pos < end and text[0] in "+-":
        positive = text[0] == "+"
        pos += 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "", ""
    start = pos
    while pos < end and text[pos].isdigit() and text[pos].isascii():
        pos += 1
    num = text[start:pos] or "0"
    denom = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos].isdigit() and text[pos].isascii():
            pos += 1
        denom = text[start:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos].isdigit() and text[pos].isascii():
        pos += 1
    if pos < end:
        raise QuantityError(FORMAT_ERROR)
    return positive, num, denom, text[suffix_start:]


def _interpret(suffix: str) -> tuple[int, int, str]:
    """(base, exponent, format) of a suffix."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:]
        body = digits[1:] if digits[0] in "+-" else digits
        if body.isdigit() and body.isascii():
            return 10, int(digits), DECIMAL_EXPONENT
    raise QuantityError(SUFFIX_ERROR)


def parse_quantity(text: str | int | float) -> Quantity:
    """Parse a quantity as written in a manifest (a string, or a bare JSON number)."""
    if isinstance(text, bool):
        raise QuantityError(FORMAT_ERROR)
    if isinstance(text, int | float):
        text = repr(text)
    text = text.strip()
    if not text:
        raise QuantityError(FORMAT_ERROR)
    if text == "0":
        return Quantity(Fraction(0), DECIMAL_SI)
    positive, num, denom, suffix = _split(text)
    base, exponent, fmt = _interpret(suffix)
    magnitude = Fraction(int(num + denom), 10 ** len(denom)) * Fraction(base) ** exponent
    if magnitude * _NANO != math.floor(magnitude * _NANO):
        magnitude = Fraction(math.ceil(magnitude * _NANO), _NANO)
    if fmt == BINARY_SI:
        magnitude = min(magnitude, Fraction(_MAX_BINARY))
        if 0 < magnitude < 1:
            fmt = DECIMAL_SI
    return Quantity(magnitude if positive else -magnitude, fmt)


def canonical_quantity(text: str | int | float) -> str:
    """The form kube-apiserver stores and returns, e.g. `canonical_quantity("1024Mi") == "1Gi"`."""
    return str(parse_quantity(text))


def _canonical(value: Fraction, fmt: str) -> str:
    if value == 0:
        return "0"
    if fmt == BINARY_SI and -1024 < value < 1024:
        fmt = DECIMAL_SI
    if fmt == BINARY_SI and value.denominator != 1:
        fmt = DECIMAL_SI
    if fmt == BINARY_SI:
        amount, exponent = value.numerator, 0
        while abs(amount) >= 1024 and amount % 1024 == 0:
            amount //= 1024
            exponent += 10
        return f"{amount}{_BINARY_BY_EXPONENT[exponent]}"  # the 2^63-1 cap keeps exponent <= 60
    amount = int(value * _NANO)  # exact: values carry at most nano precision
    exponent = -9
    while amount % 10 == 0:
        amount //= 10
        exponent += 1
    while exponent % 3 != 0:
        amount *= 10
        exponent -= 1
    if fmt == DECIMAL_EXPONENT:
        return f"{amount}e{exponent}" if exponent else str(amount)
    suffix = _DECIMAL_BY_EXPONENT.get(exponent)
    return f"{amount}{suffix}" if suffix is not None else f"{amount}e{exponent}"
