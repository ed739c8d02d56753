"""Resource quantities: parsing, exact comparison and kube-apiserver's canonical spelling."""

from __future__ import annotations

from fractions import Fraction

import pytest

from controlplane.registry.quantity import (
    FORMAT_ERROR,
    SUFFIX_ERROR,
    QuantityError,
    canonical_quantity,
    parse_quantity,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("128Mi", 128 * 2**20),
        ("1Gi", 2**30),
        ("500m", Fraction(1, 2)),
        ("1e3", 1000),
        ("0.5", Fraction(1, 2)),
        ("1.5Gi", 3 * 2**29),
        ("2k", 2000),
        ("-1", -1),
        ("+3", 3),
        (1, 1),
        (0.25, Fraction(1, 4)),
        ("12e-3", Fraction(12, 1000)),
    ],
)
def test_values(text: str | int | float, value: int | Fraction) -> None:
    assert parse_quantity(text).value == value


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("1024Mi", "1Gi"),
        ("1.5Gi", "1536Mi"),
        ("0.5", "500m"),
        ("1000", "1k"),
        ("1000m", "1"),
        ("1500m", "1500m"),
        ("1.5", "1500m"),
        ("100M", "100M"),
        ("1e3", "1e3"),
        ("1.5e3", "1500"),
        ("0.5Ki", "512"),
        ("8Ki", "8Ki"),
        ("0", "0"),
        ("0Mi", "0"),
        ("0.0000000001", "1n"),
        ("-0.0000000001", "-1n"),
        ("1.5n", "2n"),
    ],
)
def test_canonical_form(text: str, canonical: str) -> None:
    assert canonical_quantity(text) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", FORMAT_ERROR),
        ("1.2.3", FORMAT_ERROR),
        ("", FORMAT_ERROR),
        ("1K", SUFFIX_ERROR),
        ("1e", SUFFIX_ERROR),
        ("1Kib", FORMAT_ERROR),
    ],
)
def test_errors_use_kube_apiserver_wording(text: str, message: str) -> None:
    with pytest.raises(QuantityError) as err:
        parse_quantity(text)
    assert str(err.value) == message


def test_comparison_is_by_value_across_suffixes() -> None:
    assert parse_quantity("1Gi") == parse_quantity("1024Mi")
    assert parse_quantity("1Gi") > parse_quantity("1000Mi")
    assert parse_quantity("1G") < parse_quantity("1Gi")
    assert parse_quantity("250m") < parse_quantity("1")
    assert max(parse_quantity(q) for q in ("512Mi", "1Gi", "700M")) == parse_quantity("1Gi")


def test_whole_and_milli_values_round_away_from_zero() -> None:
    assert parse_quantity("1.1").int_value() == 2
    assert parse_quantity("-1.1").int_value() == -2
    assert parse_quantity("250m").milli_value() == 250
    assert parse_quantity("1n").milli_value() == 1


def test_binary_quantities_are_capped() -> None:
    assert parse_quantity("10Ei").value == 2**63 - 1
