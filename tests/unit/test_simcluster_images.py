"""Pulling from the simulated node's image catalog, worded as containerd's CRI plugin (K3s) words it: the kubelet
copies these messages into `Failed to pull image "...": <err>` events and InvalidImageName waiting states."""

from __future__ import annotations

import re

import pytest

from simcluster import images
from simcluster.images import BUSYBOX, DEBIAN, InvalidImageName, Pulled, PullFailure, normalize, pull, pull_seconds


@pytest.mark.parametrize(("reference", "normalized"), [
    ("nginx", "docker.io/library/nginx:latest"),
    ("nginx:1.27", "docker.io/library/nginx:1.27"),
    ("library/nginx", "docker.io/library/nginx:latest"),
    ("docker.io/nginx:alpine", "docker.io/library/nginx:alpine"),
    ("index.docker.io/library/redis:7", "docker.io/library/redis:7"),
    ("polinux/stress", "docker.io/polinux/stress:latest"),
    ("registry.k8s.io/e2e-test-images/agnhost:2.40", "registry.k8s.io/e2e-test-images/agnhost:2.40"),
    ("localhost:5000/app", "localhost:5000/app:latest"),
    ("nginx:1.27@sha256:" + "a" * 64, "docker.io/library/nginx@sha256:" + "a" * 64),
])
def test_references_are_normalised_as_containerd_names_them(reference: str, normalized: str) -> None:
    assert normalize(reference) == normalized


def test_upper_case_in_the_repository_is_an_invalid_image_name() -> None:
    with pytest.raises(InvalidImageName) as err:
        normalize("Nginx")
    assert str(err.value) == ('Failed to apply default image tag "Nginx": couldn\'t parse image name "Nginx": '
                              "invalid reference format: repository name (library/Nginx) must be lowercase")


def test_an_empty_tag_is_an_invalid_image_name() -> None:
    with pytest.raises(InvalidImageName) as err:
        pull("nginx:")
    assert str(err.value) == ('Failed to apply default image tag "nginx:": couldn\'t parse image name "nginx:": '
                              "invalid reference format")


def test_a_bare_64_hex_string_is_refused() -> None:
    with pytest.raises(InvalidImageName, match="cannot specify 64-byte hexadecimal strings"):
        normalize("f" * 64)


def test_a_pull_yields_the_tags_build() -> None:
    pulled = pull("nginx:1.27")
    assert isinstance(pulled, Pulled)
    assert pulled.reference == "docker.io/library/nginx:1.27"
    assert re.fullmatch(r"docker\.io/library/nginx@sha256:[0-9a-f]{64}", pulled.image_id)
    assert (pulled.image.version, pulled.image.variant, pulled.image.userland) == ("1.27.4", "", DEBIAN)


def test_tags_naming_the_same_build_share_the_image_id() -> None:
    ids = {tag: pull(f"nginx:{tag}") for tag in ("1.27", "1.27.4", "latest", "mainline", "1.27.3")}
    assert all(isinstance(p, Pulled) for p in ids.values())
    same = {p.image_id for t, p in ids.items() if t != "1.27.3" and isinstance(p, Pulled)}
    assert len(same) == 1
    other = ids["1.27.3"]
    assert isinstance(other, Pulled) and other.image_id not in same


def test_alpine_tags_bring_a_busybox_userland_and_a_smaller_image() -> None:
    alpine, debian = pull("nginx:alpine"), pull("nginx:1.27")
    assert isinstance(alpine, Pulled) and isinstance(debian, Pulled)
    assert alpine.image.userland == BUSYBOX and alpine.image.variant == "alpine"
    assert alpine.image.size < debian.image.size
    assert "nginx" in alpine.image.programs and "bash" not in alpine.image.programs


def test_a_missing_tag_is_not_found() -> None:
    assert pull("nginx:1.2x") == PullFailure(
        'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:1.2x": failed '
        'to resolve reference "docker.io/library/nginx:1.2x": docker.io/library/nginx:1.2x: not found')


def test_a_missing_docker_hub_repository_is_an_authorization_failure() -> None:
    assert pull("acme/does-not-exist:1.0") == PullFailure(
        'rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/acme/does-not-exist:1.0": '
        'failed to resolve reference "docker.io/acme/does-not-exist:1.0": pull access denied, repository does not '
        "exist or may require authorization: server message: insufficient_scope: authorization failed")


def test_a_missing_repository_elsewhere_is_not_found() -> None:
    failure = pull("ghcr.io/acme/app:1")
    assert isinstance(failure, PullFailure)
    assert failure.message.startswith("rpc error: code = NotFound desc = ")
    assert failure.message.endswith('"ghcr.io/acme/app:1": ghcr.io/acme/app:1: not found')


def test_pulling_by_digest_finds_the_build() -> None:
    by_tag = pull("redis:7.4")
    assert isinstance(by_tag, Pulled)
    digest = by_tag.image_id.split("@")[1]
    by_digest = pull(f"redis@{digest}")
    assert isinstance(by_digest, Pulled)
    assert by_digest.reference == f"docker.io/library/redis@{digest}"
    assert by_digest.image_id == by_tag.image_id and by_digest.image.version == "7.4.2"


def test_an_unknown_digest_is_not_found() -> None:
    failure = pull("redis@sha256:" + "0" * 64)
    assert isinstance(failure, PullFailure) and "code = NotFound" in failure.message


def test_pull_time_grows_with_the_image_size() -> None:
    small, large = pull("busybox:1.36"), pull("python:3.13")
    assert isinstance(small, Pulled) and isinstance(large, Pulled)
    assert 0.4 < pull_seconds(small.image) < pull_seconds(large.image)


def test_paths_in_a_fresh_container() -> None:
    nginx = pull("nginx:1.27")
    assert isinstance(nginx, Pulled)
    assert nginx.image.has_path("/tmp") and nginx.image.has_path("/docker-entrypoint.sh")
    assert nginx.image.has_path("/usr/sbin/nginx") and nginx.image.has_path("/bin/sh")
    assert not nginx.image.has_path("/tmp/healthy") and not nginx.image.has_path("/usr/bin/redis-server")


def test_every_catalog_entry_pulls_by_each_of_its_tags() -> None:
    for repository, entry in images.CATALOG.items():
        for tag in entry.image.tags:
            assert isinstance(pull(f"{repository}:{tag}"), Pulled), (repository, tag)
