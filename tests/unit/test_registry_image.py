"""Image references and the imagePullPolicy default."""

from __future__ import annotations

import pytest

from controlplane.registry.image import default_pull_policy, image_tag

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("image", "tag"),
    [
        ("nginx", "latest"),
        ("nginx:latest", "latest"),
        ("nginx:1.25", "1.25"),
        ("localhost:5000/nginx", "latest"),
        ("registry.k8s.io/pause:3.9", "3.9"),
        (f"nginx@{DIGEST}", ""),
        (f"nginx:1.2@{DIGEST}", "1.2"),
        ("[::1]:5000/app:v2", "v2"),
        ("Nginx", None),
        ("", None),
        ("a" * 64, None),
        ("busybox:", None),
    ],
)
def test_image_tag(image: str, tag: str | None) -> None:
    assert image_tag(image) == tag


def test_pull_policy_defaults() -> None:
    assert default_pull_policy("nginx") == "Always"
    assert default_pull_policy("nginx:latest") == "Always"
    assert default_pull_policy("nginx:1.25") == "IfNotPresent"
    assert default_pull_policy(f"nginx@{DIGEST}") == "IfNotPresent"
    assert default_pull_policy("Not A Reference") == "IfNotPresent"
