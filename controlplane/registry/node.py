"""Node (v1): cluster-scoped, written by the kubelet that runs it; its status is a subresource.

Nodes are served so that a simulated cluster (`simcluster/`) can look like K3s to kubectl and to the syncer; a
Canopy workspace has none of its own. Validation is metadata only (a DNS-subdomain name), as for most of what
`ValidateNode` checks concerns fields only a kubelet writes.
"""

from __future__ import annotations

from controlplane.registry.base import Strategy


class NodeStrategy(Strategy):
    kind = "Node"
    namespaced = False
    has_status = True
