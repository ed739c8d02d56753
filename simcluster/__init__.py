"""A stand-in for a small K3s cluster where none can run: Canopy's API server in single-cluster mode, with Nodes
that look and behave like K3s's to kubectl and to the syncer. The deployment controller, scheduler and simulated
kubelet come next (issue 4)."""
