"""Per-resource rules: kube-apiserver's registry strategies (defaults, validation, what a write may change).

The generic store asks `strategy_for(group, kind)` / `status_strategy_for(group, kind)` and never mentions a kind
itself; `controlplane.registry.base` documents the interface and the order in which the store calls it. The
reusable building blocks are importable too: `parse_quantity` (compare resource quantities), the name and key
format checks in `formats`, and the field-error constructors in `field`.
"""

from controlplane.registry.base import StatusStrategy, Strategy
from controlplane.registry.quantity import Quantity, QuantityError, canonical_quantity, parse_quantity
from controlplane.registry.strategy import status_strategy_for, strategy_for

__all__ = [
    "Quantity",
    "QuantityError",
    "StatusStrategy",
    "Strategy",
    "canonical_quantity",
    "parse_quantity",
    "status_strategy_for",
    "strategy_for",
]
