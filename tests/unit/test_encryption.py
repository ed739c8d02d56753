"""Secrets encrypted at rest with kube-apiserver's EncryptionConfiguration: aesgcm and identity."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
import yaml

from controlplane.encryption import EncryptionError, generate_config, load_or_create, parse_config, rotate

KEY = "/registry/root:team-a/core/secrets/default/db-password"
OTHER_KEY = "/registry/root:team-b/core/secrets/default/db-password"
PLAINTEXT = b'{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}'
SECRET_32 = base64.b64encode(b"k" * 32).decode()
SECRET_16 = base64.b64encode(b"s" * 16).decode()


def _config(providers: str, resources: str = "[secrets]") -> str:
    return (
        "apiVersion: apiserver.config.k8s.io/v1\n"
        "kind: EncryptionConfiguration\n"
        "resources:\n"
        f"  - resources: {resources}\n"
        f"    providers: {providers}\n"
    )


def _aesgcm(*keys: tuple[str, str]) -> str:
    listed = ", ".join(f"{{name: {name}, secret: '{secret}'}}" for name, secret in keys)
    return f"{{aesgcm: {{keys: [{listed}]}}}}"


AESGCM_THEN_IDENTITY = _config(f"[{_aesgcm(('key1', SECRET_32))}, {{identity: {{}}}}]")


def _invalid(text: str) -> str:
    with pytest.raises(EncryptionError) as raised:
        parse_config(text)
    return str(raised.value)


def test_round_trip() -> None:
    secrets = parse_config(AESGCM_THEN_IDENTITY)["secrets"]

    assert secrets.decrypt(KEY, secrets.encrypt(KEY, PLAINTEXT)) == (PLAINTEXT, False)


def test_stored_value_is_prefixed_ciphertext() -> None:
    secrets = parse_config(AESGCM_THEN_IDENTITY)["secrets"]

    stored = secrets.encrypt(KEY, PLAINTEXT)

    assert stored.startswith(b"k8s:enc:aesgcm:v1:key1:")
    assert b"hunter2" not in stored and b"aHVudGVyMg" not in stored and b"Secret" not in stored
    assert len(stored) == len(b"k8s:enc:aesgcm:v1:key1:") + 12 + len(PLAINTEXT) + 16
    assert secrets.encrypt(KEY, PLAINTEXT) != stored, "every write gets a fresh nonce"


def test_value_copied_to_another_etcd_key_does_not_decrypt() -> None:
    secrets = parse_config(AESGCM_THEN_IDENTITY)["secrets"]
    stored = secrets.encrypt(KEY, PLAINTEXT)

    with pytest.raises(EncryptionError, match="another etcd key"):
        secrets.decrypt(OTHER_KEY, stored)


def test_tampered_value_does_not_decrypt() -> None:
    secrets = parse_config(AESGCM_THEN_IDENTITY)["secrets"]
    stored = bytearray(secrets.encrypt(KEY, PLAINTEXT))
    stored[-1] ^= 1

    with pytest.raises(EncryptionError, match="does not decrypt with aesgcm key 'key1'"):
        secrets.decrypt(KEY, bytes(stored))


def test_rotation_keeps_old_values_readable_and_writes_with_the_new_key() -> None:
    before = generate_config()
    old = parse_config(before)["secrets"]
    stored_with_key1 = old.encrypt(KEY, PLAINTEXT)

    after = rotate(before)
    new = parse_config(after)["secrets"]

    assert new.decrypt(KEY, stored_with_key1) == (PLAINTEXT, True)
    stored_with_key2 = new.encrypt(KEY, PLAINTEXT)
    assert stored_with_key2.startswith(b"k8s:enc:aesgcm:v1:key2:")
    assert new.decrypt(KEY, stored_with_key2) == (PLAINTEXT, False)
    keys = yaml.safe_load(after)["resources"][0]["providers"][0]["aesgcm"]["keys"]
    assert [key["name"] for key in keys] == ["key2", "key1"]
    assert keys[1] == yaml.safe_load(before)["resources"][0]["providers"][0]["aesgcm"]["keys"][0]


def test_rotating_twice_names_the_next_key_after_the_highest() -> None:
    keys = yaml.safe_load(rotate(rotate(generate_config())))["resources"][0]["providers"][0]["aesgcm"]["keys"]

    assert [key["name"] for key in keys] == ["key3", "key2", "key1"]
    assert len({key["secret"] for key in keys}) == 3


def test_rotate_without_aesgcm_is_an_error() -> None:
    with pytest.raises(EncryptionError, match="no aesgcm provider"):
        rotate(_config("[{identity: {}}]"))


def test_identity_first_writes_plaintext_and_still_reads_aesgcm_values() -> None:
    encrypted = parse_config(AESGCM_THEN_IDENTITY)["secrets"].encrypt(KEY, PLAINTEXT)
    decrypting = parse_config(_config(f"[{{identity: {{}}}}, {_aesgcm(('key1', SECRET_32))}]"))["secrets"]

    assert decrypting.encrypt(KEY, PLAINTEXT) == PLAINTEXT
    assert decrypting.decrypt(KEY, PLAINTEXT) == (PLAINTEXT, False)
    assert decrypting.decrypt(KEY, encrypted) == (PLAINTEXT, True)


def test_plaintext_written_before_encryption_is_read_and_reported_stale() -> None:
    secrets = parse_config(AESGCM_THEN_IDENTITY)["secrets"]

    assert secrets.decrypt(KEY, PLAINTEXT) == (PLAINTEXT, True)


def test_plaintext_without_identity_listed_is_an_error() -> None:
    secrets = parse_config(_config(f"[{_aesgcm(('key1', SECRET_32))}]"))["secrets"]

    with pytest.raises(EncryptionError, match=r"stored unencrypted.*add `- identity: \{\}`"):
        secrets.decrypt(KEY, PLAINTEXT)


def test_value_written_by_a_key_no_longer_listed_is_an_error() -> None:
    stored = parse_config(AESGCM_THEN_IDENTITY)["secrets"].encrypt(KEY, PLAINTEXT)
    secrets = parse_config(_config(f"[{_aesgcm(('key2', SECRET_16))}, {{identity: {{}}}}]"))["secrets"]

    with pytest.raises(EncryptionError, match="written by k8s:enc:aesgcm:v1:key1, which the encryption config no"):
        secrets.decrypt(KEY, stored)


def test_truncated_ciphertext_is_an_error() -> None:
    secrets = parse_config(AESGCM_THEN_IDENTITY)["secrets"]

    with pytest.raises(EncryptionError, match="too short"):
        secrets.decrypt(KEY, b"k8s:enc:aesgcm:v1:key1:short")


def test_every_listed_resource_gets_a_transformer_and_16_byte_keys_work() -> None:
    transformers = parse_config(_config(f"[{_aesgcm(('a', SECRET_16))}]", "[secrets, configmaps, deployments.apps]"))

    assert set(transformers) == {"secrets", "configmaps", "deployments.apps"}
    configmaps = transformers["configmaps"]
    assert configmaps.decrypt(KEY, configmaps.encrypt(KEY, b"{}")) == (b"{}", False)


@pytest.mark.parametrize(("text", "message"), [
    ("resources: [", "not valid YAML"),
    ("- a list", "must be a YAML mapping"),
    (_config("[{identity: {}}]").replace("EncryptionConfiguration", "EncryptionConfig"),
     "kind EncryptionConfiguration"),
    ("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n", "resources: at least one entry"),
    (_config("[{identity: {}}]", "[]"), r"resources\[0\]\.resources: at least one resource"),
    (_config("[{identity: {}}]", "['*.*']"), r"wildcards such as '\*\.\*' are not supported"),
    (_config("[{identity: {}}]", "[Secrets]"), "'Secrets' is not a resource name"),
    (_config("[]"), r"resources\[0\]\.providers: at least one provider"),
    (_config("[{aescbc: {keys: [{name: k, secret: x}]}}]"), "the aescbc provider is not supported by Canopy"),
    (_config("[{rot13: {}}]"), "unknown provider 'rot13'"),
    (_config("[{identity: {}, aesgcm: {keys: []}}]"), "more than one provider"),
    (_config("[{identity: {keys: []}}]"), "identity takes no settings"),
    (_config("[{aesgcm: {keys: []}}]"), r"providers\[0\]\.aesgcm\.keys: at least one key is required"),
    (_config("[{aesgcm: {}}]"), "at least one key is required"),
    (_config(f"[{_aesgcm(('key1', 'P@ssword!'))}]"), r"keys\[0\]\.secret: secrets must be base64 encoded"),
    (_config(f"[{_aesgcm(('key1', base64.b64encode(b'x' * 20).decode()))}]"),
     "the secret is 20 bytes long; AES-GCM needs 16, 24 or 32 bytes"),
    (_config(f"[{_aesgcm(('key1', SECRET_32), ('key1', SECRET_16))}]"), r"keys\[1\]\.name: duplicate key name"),
    (_config(f"[{_aesgcm(('key1', SECRET_32))}, {_aesgcm(('key1', SECRET_16))}]"), "duplicate key name 'key1'"),
    (_config(f"[{_aesgcm(('', SECRET_32))}]"), "name is a mandatory field"),
    (_config(f"[{_aesgcm(('a:b', SECRET_32))}]"), "must not contain ':'"),
    (_config("[{aesgcm: {keys: [{name: key1}]}}]"), "secret is a mandatory field"),
])
def test_invalid_config_is_explained(text: str, message: str) -> None:
    with pytest.raises(EncryptionError, match=message):
        parse_config(text)


def test_resource_listed_twice_is_an_error() -> None:
    entry = f"  - resources: [secrets]\n    providers: [{_aesgcm(('key1', SECRET_32))}]\n"

    assert "secrets is listed in more than one entry" in _invalid(AESGCM_THEN_IDENTITY + entry)


def test_every_problem_is_reported_at_once() -> None:
    message = _invalid(_config(f"[{_aesgcm(('key1', 'P@ss'), ('key1', SECRET_16))}, {{rot13: {{}}}}]"))

    assert "secrets must be base64 encoded" in message
    assert "duplicate key name" in message
    assert "unknown provider 'rot13'" in message


def test_generated_config_encrypts_secrets_and_reads_plaintext() -> None:
    text = generate_config()
    document = yaml.safe_load(text)

    providers = document["resources"][0]["providers"]
    assert document["resources"][0]["resources"] == ["secrets"]
    assert len(base64.b64decode(providers[0]["aesgcm"]["keys"][0]["secret"])) == 32
    assert providers[1] == {"identity": {}}
    assert generate_config() != text, "every config gets its own key"
    secrets = parse_config(text)["secrets"]
    assert secrets.decrypt(KEY, PLAINTEXT) == (PLAINTEXT, True)


def test_load_or_create_writes_a_private_config_once(tmp_path: Path) -> None:
    path = tmp_path / "data" / "encryption-config.yaml"

    first = load_or_create(path)["secrets"]
    text = path.read_text()
    second = load_or_create(path)["secrets"]

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == text
    assert second.decrypt(KEY, first.encrypt(KEY, PLAINTEXT)) == (PLAINTEXT, False)
    assert [p.name for p in path.parent.iterdir()] == ["encryption-config.yaml"]


def test_load_or_create_refuses_an_invalid_config_and_leaves_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "encryption-config.yaml"
    path.write_text(_config("[{rot13: {}}]"))

    with pytest.raises(EncryptionError, match="unknown provider 'rot13'"):
        load_or_create(path)
    assert path.read_text() == _config("[{rot13: {}}]")
