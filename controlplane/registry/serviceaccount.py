"""ServiceAccount (v1): metadata validation only (a DNS-subdomain name); no defaults, no spec, no status."""

from __future__ import annotations

from controlplane.registry.base import Strategy


class ServiceAccountStrategy(Strategy):
    kind = "ServiceAccount"
