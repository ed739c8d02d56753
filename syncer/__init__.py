"""The syncer: links one physical cluster to the control plane (docs/syncer.md)."""
