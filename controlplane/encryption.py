"""Encryption at rest: Secrets (and any other listed resource) stored in etcd as AES-GCM ciphertext.

Anyone who can read etcd, or a backup of it, can otherwise read every Secret of every workspace. kube-apiserver's
answer is `--encryption-provider-config`, an `EncryptionConfiguration` file; Canopy reads the same file format with
the same meaning, so an operator's knowledge (and config) carries over:

- per resource, an ordered list of providers; the FIRST one encrypts every new write, and every listed one can
  decode what it recognises. Rotation is therefore "put a new key first, keep the old ones until everything has
  been rewritten", and removing encryption is "put `identity` first".
- an aesgcm value is stored as `k8s:enc:aesgcm:v1:<key name>:` + 12-byte random nonce + ciphertext and tag, so a
  value names the key that wrote it. Each key of the provider is its own prefix, tried in list order, exactly as
  kube-apiserver flattens them.
- the etcd key is the additional authenticated data. A value copied to another key (another workspace's Secret,
  say, by someone with write access to etcd but not to the encryption key) then fails to decrypt instead of being
  served as that other Secret.
- anything without the `k8s:enc:` prefix is plaintext, readable only when `identity` is listed: after encryption
  is switched on, old Secrets stay readable because the generated config ends with `identity: {}`.
- reading reports a value as stale when it was not written by the first provider (and key): a caller that rewrites
  stale values moves the data to the current key.

Only `aesgcm` and `identity` are implemented. aescbc is deprecated upstream for its padding-oracle weakness,
secretbox is rarely used, and kms needs a plugin; a config naming them is rejected rather than half-honoured.
Random 96-bit nonces put a limit of about 2^32 writes per key (NIST SP 800-38D): rotate long before that.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from controlplane.pki import write_atomically

log = logging.getLogger(__name__)

API_VERSION = "apiserver.config.k8s.io/v1"
KIND = "EncryptionConfiguration"

_ENCRYPTED_PREFIX = b"k8s:enc:"
_AESGCM_PREFIX = "k8s:enc:aesgcm:v1:"
_NONCE_SIZE = 12
_TAG_SIZE = 16
_AES_KEY_SIZES = (16, 24, 32)
_GENERATED_KEY_SIZE = 32
_UNSUPPORTED_PROVIDERS = ("aescbc", "secretbox", "kms")
# "secrets" (core group) or "<resource>.<group>", as in kube-apiserver's config.
_RESOURCE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_NUMBERED_KEY = re.compile(r"key(\d+)")


class EncryptionError(Exception):
    """The encryption config is unusable, or a stored value cannot be decrypted; the message says what to do."""


@dataclass(frozen=True)
class _Provider:
    """One prefix transformer: a single aesgcm key, or identity (empty prefix, no cipher)."""

    description: str
    prefix: bytes
    aead: AESGCM | None


@dataclass(frozen=True)
class Transformer:
    """How one resource's values go to etcd and come back: its providers, in the config's order."""

    resource: str
    providers: tuple[_Provider, ...]

    def encrypt(self, key: str, plaintext: bytes) -> bytes:
        """The value to store at etcd `key`, written by the first provider."""
        writer = self.providers[0]
        if writer.aead is None:
            return plaintext
        nonce = os.urandom(_NONCE_SIZE)
        return writer.prefix + nonce + writer.aead.encrypt(nonce, plaintext, key.encode())

    def decrypt(self, key: str, stored: bytes) -> tuple[bytes, bool]:
        """(plaintext, stale) for the value stored at etcd `key`; stale when the first provider did not write it."""
        for index, provider in enumerate(self.providers):
            if not stored.startswith(provider.prefix):
                continue
            if provider.aead is None:
                # identity matches everything, but must not hand out ciphertext as if it were the object: with
                # identity listed first (while migrating away from encryption) the providers after it decode.
                if stored.startswith(_ENCRYPTED_PREFIX):
                    continue
                return stored, index != 0
            body = stored[len(provider.prefix):]
            if len(body) < _NONCE_SIZE + _TAG_SIZE:
                raise EncryptionError(f"the value at {key} is too short to be {provider.description} ciphertext; it"
                                      " is corrupt: restore it from a backup or delete the object")
            try:
                plaintext = provider.aead.decrypt(body[:_NONCE_SIZE], body[_NONCE_SIZE:], key.encode())
            except InvalidTag:
                raise EncryptionError(
                    f"the value at {key} does not decrypt with {provider.description}: either the key's secret was"
                    " changed in the encryption config (put the original secret back) or the value was written at"
                    " another etcd key or altered in etcd"
                ) from None
            return plaintext, index != 0
        if stored.startswith(_ENCRYPTED_PREFIX):
            raise EncryptionError(
                f"the value at {key} was written by {_writer_of(stored)}, which the encryption config no longer lists"
                f" for {self.resource}; add that provider and key back (after the first provider) and restart"
            )
        raise EncryptionError(
            f"the value at {key} is stored unencrypted, but the encryption config does not list the identity provider"
            f" for {self.resource}; add `- identity: {{}}` as the last provider so unencrypted values stay readable"
            " until they are rewritten"
        )


def _writer_of(stored: bytes) -> str:
    """`k8s:enc:aesgcm:v1:key1` for a value written by aesgcm key key1: the prefix up to the key name."""
    return b":".join(stored.split(b":", 5)[:5]).decode("utf-8", "replace")


def _parse_resource_names(value: Any, path: str, errors: list[str]) -> list[tuple[str, str]]:
    """(path, name) of every valid resource name in one entry's `resources` list."""
    if not isinstance(value, list) or not value:
        errors.append(f"{path}: at least one resource is required, e.g. [secrets]")
        return []
    names: list[tuple[str, str]] = []
    for index, name in enumerate(value):
        item = f"{path}[{index}]"
        if isinstance(name, str) and "*" in name:
            errors.append(f"{item}: wildcards such as {name!r} are not supported by Canopy; list each resource,"
                          " e.g. secrets, configmaps")
        elif not isinstance(name, str) or not _RESOURCE_NAME.fullmatch(name):
            errors.append(f"{item}: {name!r} is not a resource name; write the lowercase plural, with the group for"
                          " resources outside the core group: secrets, deployments.apps")
        else:
            names.append((item, name))
    return names


def _parse_aesgcm(body: Any, path: str, key_names: set[str], errors: list[str]) -> list[_Provider]:
    keys = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(keys, list) or not keys:
        errors.append(f"{path}.keys: at least one key is required")
        return []
    providers: list[_Provider] = []
    for index, key in enumerate(keys):
        item = f"{path}.keys[{index}]"
        if not isinstance(key, dict):
            errors.append(f"{item}: a key is a mapping with name and secret")
            continue
        errors_before = len(errors)
        name, secret = key.get("name"), key.get("secret")
        if not isinstance(name, str) or not name:
            errors.append(f"{item}.name: name is a mandatory field for a key")
        elif ":" in name:
            # The name ends the stored prefix at the first ':'; with "a" and "a:b" both listed, key a would claim
            # values written by key a:b.
            errors.append(f"{item}.name: key name {name!r} must not contain ':'")
        elif name in key_names:
            errors.append(f"{item}.name: duplicate key name {name!r}; stored values find their key by name, so"
                          " every key of a resource needs its own")
        else:
            key_names.add(name)
        if not isinstance(secret, str) or not secret:
            errors.append(f"{item}.secret: secret is a mandatory field for a key (base64 of 32 random bytes:"
                          " `head -c 32 /dev/urandom | base64`)")
            continue
        try:
            raw = base64.b64decode(secret, validate=True)
        except (binascii.Error, ValueError):
            errors.append(f"{item}.secret: secrets must be base64 encoded (`head -c 32 /dev/urandom | base64`)")
            continue
        if len(raw) not in _AES_KEY_SIZES:
            errors.append(f"{item}.secret: the secret is {len(raw)} bytes long; AES-GCM needs 16, 24 or 32 bytes"
                          " (32 recommended)")
        if len(errors) == errors_before:
            providers.append(_Provider(f"aesgcm key {name!r}", f"{_AESGCM_PREFIX}{name}:".encode(), AESGCM(raw)))
    return providers


def _parse_providers(value: Any, path: str, errors: list[str]) -> tuple[_Provider, ...]:
    if not isinstance(value, list) or not value:
        errors.append(f"{path}: at least one provider is required, e.g. [{{aesgcm: ...}}, {{identity: {{}}}}]")
        return ()
    providers: list[_Provider] = []
    key_names: set[str] = set()
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(item, dict) or not item:
            errors.append(f"{where}: a provider is a mapping with one of aesgcm or identity")
            continue
        if len(item) > 1:
            errors.append(f"{where}: more than one provider ({', '.join(map(str, item))}) in a single element;"
                          " give each its own list element")
            continue
        ((kind, body),) = item.items()
        if kind == "identity":
            if body not in (None, {}):
                errors.append(f"{where}.identity: identity takes no settings; write `identity: {{}}`")
            providers.append(_Provider("identity", b"", None))
        elif kind == "aesgcm":
            providers.extend(_parse_aesgcm(body, f"{where}.aesgcm", key_names, errors))
        elif kind in _UNSUPPORTED_PROVIDERS:
            errors.append(f"{where}: the {kind} provider is not supported by Canopy; use aesgcm (and identity)")
        else:
            errors.append(f"{where}: unknown provider {kind!r}; Canopy supports aesgcm and identity")
    return tuple(providers)


def _load_document(text: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise EncryptionError(f"the encryption config is not valid YAML: {e}") from e
    if not isinstance(document, dict):
        raise EncryptionError(f"the encryption config must be a YAML mapping with apiVersion: {API_VERSION},"
                              f" kind: {KIND} and resources")
    return document


def parse_config(text: str) -> dict[str, Transformer]:
    """The transformer of every resource the `EncryptionConfiguration` in `text` lists, by resource name.

    Every problem is reported at once, each with its field path (`resources[0].providers[1].aesgcm.keys[0].secret`),
    as kube-apiserver does. Resources the config does not list are stored unencrypted.
    """
    document = _load_document(text)
    errors: list[str] = []
    if document.get("apiVersion") != API_VERSION or document.get("kind") != KIND:
        errors.append(f"apiVersion must be {API_VERSION} and kind {KIND}, not"
                      f" {document.get('apiVersion')!r} and {document.get('kind')!r}")
    entries = document.get("resources")
    if not isinstance(entries, list) or not entries:
        errors.append("resources: at least one entry (resources and providers) is required")
        entries = []
    transformers: dict[str, Transformer] = {}
    for index, entry in enumerate(entries):
        where = f"resources[{index}]"
        if not isinstance(entry, dict):
            errors.append(f"{where}: an entry is a mapping with resources and providers")
            continue
        names = _parse_resource_names(entry.get("resources"), f"{where}.resources", errors)
        providers = _parse_providers(entry.get("providers"), f"{where}.providers", errors)
        for item, name in names:
            if name in transformers:
                errors.append(f"{item}: {name} is listed in more than one entry; each resource gets one provider"
                              " list")
            elif providers:
                transformers[name] = Transformer(name, providers)
    if errors:
        raise EncryptionError("invalid encryption config:\n  " + "\n  ".join(errors))
    return transformers


def _new_secret() -> str:
    return base64.b64encode(os.urandom(_GENERATED_KEY_SIZE)).decode()


def generate_config() -> str:
    """A fresh config that encrypts Secrets with one new random AES-256 key, and still reads plaintext ones."""
    document = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "resources": [{
            "resources": ["secrets"],
            "providers": [
                {"aesgcm": {"keys": [{"name": "key1", "secret": _new_secret()}]}},
                {"identity": {}},
            ],
        }],
    }
    return yaml.safe_dump(document, sort_keys=False)


def _next_key_name(names: list[str]) -> str:
    numbers = [int(match.group(1)) for name in names if (match := _NUMBERED_KEY.fullmatch(name))]
    return f"key{max(numbers, default=len(names)) + 1}"


def rotate(text: str) -> str:
    """`text` with a new random key first in each entry's (first) aesgcm provider, as YAML; old keys stay to decode.

    The new key is named key<N+1> after the highest numbered key. New writes use it from the next start on (when
    aesgcm is the first provider); values under older keys read as stale until rewritten, after which the old keys
    can be removed. With several servers sharing one etcd, kube-apiserver's safe order applies: give every server
    the new key second first, restart them all, and only then move it to the front, or a server that does not know
    the key yet cannot read what the others write. Comments in `text` are not kept.
    """
    parse_config(text)
    document = _load_document(text)
    rotated = False
    for entry in document["resources"]:
        aesgcm_providers = [provider["aesgcm"] for provider in entry["providers"] if "aesgcm" in provider]
        if not aesgcm_providers:
            continue
        names = [key["name"] for provider in aesgcm_providers for key in provider["keys"]]
        aesgcm_providers[0]["keys"].insert(0, {"name": _next_key_name(names), "secret": _new_secret()})
        rotated = True
    if not rotated:
        raise EncryptionError("the encryption config has no aesgcm provider to rotate; add one first, e.g. from"
                              " a generated config")
    return yaml.safe_dump(document, sort_keys=False)


def load_or_create(path: Path) -> dict[str, Transformer]:
    """The transformers of the config at `path`, writing a generated one (mode 0600) there first if there is none.

    Errors do not repeat `path`: the caller names the file (with the flag it came from) in its own message.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, generate_config().encode(), mode=0o600)
        log.info("created encryption config %s: Secrets are encrypted with aesgcm key key1", path)
    return parse_config(path.read_text())
