"""The PATCH bodies kube-apiserver applies itself: JSON patch, JSON merge patch and strategic merge patch.

Each engine is a pure function from the live object and the decoded patch body to the patched object, raising
`StatusError` with the code kube-apiserver uses for that failure. The HTTP layer picks the engine from the
request's Content-Type; server-side apply (`application/apply-patch+yaml`) tracks field ownership and lives apart.
"""

from controlplane.patch.json_patch import MAX_JSON_PATCH_OPERATIONS, apply_json_patch
from controlplane.patch.merge_patch import apply_merge_patch
from controlplane.patch.strategic import CUSTOM_RESOURCE_PATCH_TYPES, apply_strategic_merge_patch

__all__ = [
    "CUSTOM_RESOURCE_PATCH_TYPES",
    "MAX_JSON_PATCH_OPERATIONS",
    "apply_json_patch",
    "apply_merge_patch",
    "apply_strategic_merge_patch",
]
