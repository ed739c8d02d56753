"""Kubeconfig documents: building, writing, reading them back, and the URLs of workspaces."""

from __future__ import annotations

import base64
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from controlplane.kubeconfig import KubeconfigError, base_url, build, current, workspace_of, workspace_url, write

CA = b"-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n"
CERT = b"-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n"
KEY = b"-----BEGIN EC PRIVATE KEY-----\nkey\n-----END EC PRIVATE KEY-----\n"
SERVER = "https://canopy.example:6443/clusters/root:team-a"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --------------------------------------------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------------------------------------------


def test_token_kubeconfig_has_the_token_and_the_embedded_ca() -> None:
    config = build(SERVER, CA, "alice", token="s3cret")

    assert config["current-context"] == "canopy"
    assert config["clusters"] == [{"name": "canopy", "cluster": {
        "server": SERVER, "certificate-authority-data": base64.b64encode(CA).decode(),
    }}]
    assert config["users"] == [{"name": "alice", "user": {"token": "s3cret"}}]
    assert config["contexts"] == [{"name": "canopy", "context": {
        "cluster": "canopy", "user": "alice", "namespace": "default",
    }}]


def test_client_certificate_kubeconfig_embeds_certificate_and_key() -> None:
    config = build(SERVER, CA, "admin", cert_pem=CERT, key_pem=KEY, name="canopy-admin", namespace="kube-system")

    user = config["users"][0]["user"]
    assert "token" not in user
    assert base64.b64decode(user["client-certificate-data"]) == CERT
    assert base64.b64decode(user["client-key-data"]) == KEY
    assert config["current-context"] == "canopy-admin"
    assert config["contexts"][0]["context"]["namespace"] == "kube-system"


def test_token_wins_over_a_client_certificate() -> None:
    config = build(SERVER, CA, "alice", token="s3cret", cert_pem=CERT, key_pem=KEY)

    assert config["users"][0]["user"] == {"token": "s3cret"}


def test_built_kubeconfig_is_usable() -> None:
    config = build(SERVER, CA, "alice", token="s3cret")

    cluster, user = current(config, "alice.kubeconfig")

    assert cluster["server"] == SERVER
    assert base64.b64decode(cluster["certificate-authority-data"]) == CA
    assert user == {"token": "s3cret"}


# --------------------------------------------------------------------------------------------------------------
# write
# --------------------------------------------------------------------------------------------------------------


def test_written_kubeconfig_is_private_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "alice.kubeconfig"
    config = build(SERVER, CA, "alice", token="s3cret")

    write(path, config)

    assert mode(path) == 0o600
    assert yaml.safe_load(path.read_text()) == config


def test_writing_replaces_an_existing_kubeconfig_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "alice.kubeconfig"
    write(path, build(SERVER, CA, "alice", token="old"))
    before = path.stat().st_ino

    write(path, build(SERVER, CA, "alice", token="new"))

    assert yaml.safe_load(path.read_text())["users"][0]["user"] == {"token": "new"}
    assert path.stat().st_ino != before  # renamed into place, never truncated and rewritten
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alice.kubeconfig"]


def test_writing_over_a_world_readable_kubeconfig_makes_it_private(tmp_path: Path) -> None:
    path = tmp_path / "alice.kubeconfig"
    path.write_text("old")
    path.chmod(0o644)

    write(path, build(SERVER, CA, "alice", token="s3cret"))

    assert mode(path) == 0o600


def test_a_leftover_temporary_file_does_not_make_the_kubeconfig_readable_by_others(tmp_path: Path) -> None:
    """A crash between creating the temporary file and renaming it leaves it behind; the next write must not
    inherit its permissions, or the credentials land in a world-readable file."""
    path = tmp_path / "alice.kubeconfig"
    leftover = tmp_path / "alice.kubeconfig.tmp"
    leftover.write_text("half a kubeconfig")
    leftover.chmod(0o644)

    write(path, build(SERVER, CA, "alice", token="s3cret"))

    assert mode(path) == 0o600


# --------------------------------------------------------------------------------------------------------------
# Workspace URLs
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "base"), [
    ("https://h:6443", "https://h:6443"),
    ("https://h:6443/", "https://h:6443"),
    ("https://h:6443/clusters/root", "https://h:6443"),
    ("https://h:6443/clusters/root:team-a", "https://h:6443"),
    ("https://h:6443/clusters/root:team-a/", "https://h:6443"),
    ("https://proxy.example/canopy/clusters/root:org:team", "https://proxy.example/canopy"),
    ("https://proxy.example/canopy/", "https://proxy.example/canopy"),
])
def test_base_url_is_the_server_without_its_workspace(url: str, base: str) -> None:
    assert base_url(url) == base


@pytest.mark.parametrize(("url", "workspace"), [
    ("https://h:6443", "root"),
    ("https://h:6443/", "root"),
    ("https://h:6443/clusters/", "root"),
    ("https://h:6443/clusters/root", "root"),
    ("https://h:6443/clusters/root:team-a", "root:team-a"),
    ("https://h:6443/clusters/root:team-a/", "root:team-a"),
    ("https://proxy.example/canopy/clusters/root:org:team", "root:org:team"),
])
def test_workspace_of_a_url(url: str, workspace: str) -> None:
    assert workspace_of(url) == workspace


@pytest.mark.parametrize("server", [
    "https://h:6443",
    "https://h:6443/",
    "https://h:6443/clusters/root",
    "https://h:6443/clusters/root:other",
    "https://proxy.example/canopy/clusters/root:other",
])
@pytest.mark.parametrize("workspace", ["root", "root:team-a", "root:org:team"])
def test_workspace_url_round_trips(server: str, workspace: str) -> None:
    url = workspace_url(server, workspace)

    assert workspace_of(url) == workspace
    assert base_url(url) == base_url(server)
    assert url == f"{base_url(server)}/clusters/{workspace}"


def test_workspace_url_from_another_workspaces_url() -> None:
    assert workspace_url(SERVER, "root:team-b") == "https://canopy.example:6443/clusters/root:team-b"


# --------------------------------------------------------------------------------------------------------------
# current: what is wrong with a broken kubeconfig
# --------------------------------------------------------------------------------------------------------------


def good() -> dict[str, Any]:
    return build(SERVER, CA, "alice", token="s3cret")


def refusal(config: object) -> str:
    with pytest.raises(KubeconfigError) as caught:
        current(config, "/tmp/admin.kubeconfig")
    message = str(caught.value)
    assert message.startswith("/tmp/admin.kubeconfig is not a usable kubeconfig: ")
    assert message.endswith("; pass the admin kubeconfig the server wrote (DATA_DIR/admin.kubeconfig)")
    return message


@pytest.mark.parametrize("config", [None, "just a string", ["a", "list"], 42])
def test_kubeconfig_that_is_not_a_mapping_is_refused(config: object) -> None:
    assert "it is not a YAML mapping" in refusal(config)


def test_kubeconfig_without_current_context_is_refused() -> None:
    config = good()
    del config["current-context"]

    assert "it has no current-context" in refusal(config)


def test_kubeconfig_whose_current_context_is_not_defined_is_refused() -> None:
    config = good()
    config["current-context"] = "elsewhere"

    assert "it has no current-context" in refusal(config)


def test_kubeconfig_without_contexts_is_refused() -> None:
    config = good()
    del config["contexts"]

    assert "it has no current-context" in refusal(config)


def test_kubeconfig_whose_context_names_a_missing_cluster_is_refused() -> None:
    config = good()
    config["clusters"][0]["name"] = "another"

    assert 'the cluster of context "canopy" is missing or has no server' in refusal(config)


def test_kubeconfig_whose_cluster_has_no_server_is_refused() -> None:
    config = good()
    del config["clusters"][0]["cluster"]["server"]

    assert 'the cluster of context "canopy" is missing or has no server' in refusal(config)


def test_kubeconfig_whose_context_names_a_missing_user_is_refused() -> None:
    config = good()
    config["users"] = []

    assert 'the user of context "canopy" is missing' in refusal(config)


@pytest.mark.parametrize("broken", [
    {"contexts": [{"name": "canopy", "context": "not a mapping"}]},
    {"clusters": [{"name": "canopy", "cluster": "not a mapping"}]},
    {"contexts": "not a list"},
])
def test_kubeconfig_with_a_misshapen_entry_is_refused_not_crashed_on(broken: dict[str, Any]) -> None:
    """Hand-edited YAML: a string where a mapping belongs must be reported like every other broken shape."""
    config = {**good(), **broken}

    refusal(config)
