"""Lease (coordination.k8s.io/v1): a holder's claim, renewed by rewriting `spec.renewTime`; no status, no generation.

Served for the node leases a simulated cluster's kubelets renew in `kube-node-lease` (`kubectl describe node`
shows them), as every cluster has them.
"""

from __future__ import annotations

from controlplane.registry.base import Strategy


class LeaseStrategy(Strategy):
    group = "coordination.k8s.io"
    kind = "Lease"
