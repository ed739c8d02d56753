"""Who is asking: bearer tokens and client certificates, as kube-apiserver authenticates them.

A request carries at most one identity. `Authorization: Bearer <token>` is looked up by the token's SHA-256 among the
AccessTokens of the root workspace (only their hashes are stored); otherwise a client certificate verified by the
TLS layer against the server's CA names the user (CN) and their groups (O), exactly like kube-apiserver's x509
authenticator. Every authenticated user is also in `system:authenticated`. Nothing at all is anonymous, except the
health and version endpoints, which the caller decides.

The token index is kept in memory from the watch cache, so a lookup is one hash and one dict access, and deleting
an AccessToken revokes it as soon as the cache sees the deletion, on every server replica.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from api.types import ACCESS_TOKEN
from controlplane.auth.rbac import UserInfo
from controlplane.storage.keys import ROOT_WORKSPACE, resource_prefix
from controlplane.storage.watchcache import DELETED, WatchCache, WatchEvent

AUTHENTICATED = "system:authenticated"
SYSTEM_MASTERS = "system:masters"  # the group kube-apiserver lets do anything, anywhere

_TOKENS = ACCESS_TOKEN.resource


class Unauthorized(Exception):
    """The request presented a credential, and it is not good; the message says what to do."""


def token_hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def with_authenticated(name: str, groups: tuple[str, ...] | list[str]) -> UserInfo:
    return UserInfo(name, tuple(dict.fromkeys([*groups, AUTHENTICATED])))


@dataclass(frozen=True, slots=True)
class _Token:
    user: UserInfo
    expires: datetime | None


def _parse_expiry(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class TokenAuthenticator:
    """Bearer tokens, from the AccessTokens in the root workspace."""

    def __init__(self, cache: WatchCache, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._cache = cache
        self._now = now
        self._by_hash: dict[str, _Token] = {}
        self._by_name: dict[str, tuple[str, _Token]] = {}  # AccessToken name -> (its hash, its token)

    def start(self) -> None:
        self._rebuild()
        self._cache.add_listener(self._on_event, on_relist=self._rebuild)

    def stop(self) -> None:
        self._cache.remove_listener(self._on_event, self._rebuild)

    def _rebuild(self) -> None:
        self._by_hash.clear()
        self._by_name.clear()
        rid = (ROOT_WORKSPACE, _TOKENS.group, _TOKENS.plural)
        for cached in self._cache.list(rid, resource_prefix(ROOT_WORKSPACE, _TOKENS.group, _TOKENS.plural)):
            self._remember(cached.key.name, cached.obj)

    def _on_event(self, event: WatchEvent) -> None:
        key = event.key
        if (key.workspace, key.group, key.resource) != (ROOT_WORKSPACE, _TOKENS.group, _TOKENS.plural):
            return
        self._forget(key.name)
        if event.type != DELETED:
            self._remember(key.name, event.obj)

    def _forget(self, name: str) -> None:
        forgotten = self._by_name.pop(name, None)
        if forgotten is None:
            return
        digest = forgotten[0]
        self._by_hash.pop(digest, None)
        # Another AccessToken may hold the same hash (the same token stored twice): it keeps working.
        for other_digest, token in self._by_name.values():
            if other_digest == digest:
                self._by_hash[digest] = token
                break

    def _remember(self, name: str, obj: Mapping[str, Any]) -> None:
        spec = obj.get("spec") or {}
        digest, user = spec.get("tokenHash"), spec.get("user")
        if not isinstance(digest, str) or not isinstance(user, str) or not user:
            return
        try:
            expires = _parse_expiry(spec.get("expirationTimestamp"))
        except ValueError:
            return
        groups = [g for g in spec.get("groups") or [] if isinstance(g, str)]
        token = _Token(with_authenticated(user, groups), expires)
        self._by_name[name] = (digest, token)
        self._by_hash[digest] = token

    def authenticate(self, token: str) -> UserInfo:
        found = self._by_hash.get(token_hash(token))
        if found is None:
            raise Unauthorized(
                "Unauthorized: the bearer token is not known to this server (revoked, or minted for another "
                "server); ask your platform admin for a new kubeconfig (canopy kubeconfig)"
            )
        if found.expires is not None and found.expires <= self._now():
            raise Unauthorized(
                "Unauthorized: the bearer token has expired; ask your platform admin for a new kubeconfig "
                "(canopy kubeconfig)"
            )
        return found.user


def bearer_token(authorization: str) -> str:
    """The token of an `Authorization: Bearer <token>` header; Unauthorized for any other form."""
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthorized(
            'Unauthorized: the Authorization header must be "Bearer <token>"; check the token in your kubeconfig'
        )
    return token

