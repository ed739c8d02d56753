"""Bearer tokens: the AccessTokens of the root workspace, followed through the watch cache."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from controlplane.auth.authn import (
    AUTHENTICATED,
    TokenAuthenticator,
    Unauthorized,
    bearer_token,
    token_hash,
    with_authenticated,
)
from controlplane.auth.rbac import UserInfo
from controlplane.storage.keys import ROOT_WORKSPACE, ObjectKey
from controlplane.storage.watchcache import WatchCache
from tests.unit.fakes import FakeCache

TENANCY = "tenancy.canopy.dev"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def token_key(name: str, workspace: str = ROOT_WORKSPACE) -> ObjectKey:
    return ObjectKey(workspace, TENANCY, "accesstokens", "", name)


def access_token(
    name: str, token: str, user: str, groups: list[Any] | None = None, expires: str = ""
) -> dict[str, Any]:
    spec: dict[str, Any] = {"user": user, "tokenHash": token_hash(token)}
    if groups is not None:
        spec["groups"] = groups
    if expires:
        spec["expirationTimestamp"] = expires
    return {"apiVersion": f"{TENANCY}/v1alpha1", "kind": "AccessToken", "metadata": {"name": name}, "spec": spec}


def started(cache: FakeCache, now: datetime = NOW) -> TokenAuthenticator:
    tokens = TokenAuthenticator(cast(WatchCache, cache), now=lambda: now)
    tokens.start()
    return tokens


def unauthorized_message(tokens: TokenAuthenticator, token: str) -> str:
    with pytest.raises(Unauthorized) as caught:
        tokens.authenticate(token)
    return str(caught.value)


# --------------------------------------------------------------------------------------------------------------
# Looking a token up
# --------------------------------------------------------------------------------------------------------------


def test_known_token_authenticates_as_its_user_with_its_groups_and_system_authenticated() -> None:
    cache = FakeCache()
    cache.put(token_key("alice"), access_token("alice", "s3cret", "alice", ["devs", "ops"]))
    tokens = started(cache)

    assert tokens.authenticate("s3cret") == UserInfo("alice", ("devs", "ops", AUTHENTICATED))


def test_token_without_groups_is_only_in_system_authenticated() -> None:
    cache = FakeCache()
    cache.put(token_key("bob"), access_token("bob", "b0b", "bob"))

    assert started(cache).authenticate("b0b") == UserInfo("bob", (AUTHENTICATED,))


def test_token_created_after_start_works_at_once() -> None:
    cache = FakeCache()
    tokens = started(cache)

    cache.put(token_key("alice"), access_token("alice", "s3cret", "alice"))

    assert tokens.authenticate("s3cret").name == "alice"


def test_unknown_token_is_unauthorized_and_says_how_to_get_a_new_one() -> None:
    cache = FakeCache()
    cache.put(token_key("alice"), access_token("alice", "s3cret", "alice"))

    message = unauthorized_message(started(cache), "guessed")

    assert message.startswith("Unauthorized: the bearer token is not known to this server")
    assert "canopy kubeconfig" in message


def test_expired_token_is_unauthorized_and_says_it_expired() -> None:
    cache = FakeCache()
    cache.put(token_key("alice"), access_token("alice", "s3cret", "alice", expires="2025-06-01T11:59:59Z"))

    message = unauthorized_message(started(cache, now=NOW), "s3cret")

    assert "expired" in message
    assert message.startswith("Unauthorized:")


def test_token_is_expired_at_its_expiration_timestamp_exactly() -> None:
    cache = FakeCache()
    cache.put(token_key("alice"), access_token("alice", "s3cret", "alice", expires="2025-06-01T12:00:00Z"))

    assert "expired" in unauthorized_message(started(cache, now=NOW), "s3cret")


def test_token_works_until_its_expiration_timestamp() -> None:
    cache = FakeCache()
    cache.put(token_key("alice"), access_token("alice", "s3cret", "alice", expires="2025-06-01T12:00:00.5Z"))
    clock = [NOW]
    tokens = TokenAuthenticator(cast(WatchCache, cache), now=lambda: clock[0])
    tokens.start()

    assert tokens.authenticate("s3cret").name == "alice"
    clock[0] = NOW + timedelta(seconds=1)
    assert "expired" in unauthorized_message(tokens, "s3cret")


def test_expiration_timestamp_with_nanoseconds_is_understood() -> None:
    cache = FakeCache()
    cache.put(token_key("alice"), access_token("alice", "s3cret", "alice", expires="2025-06-01T13:00:00.123456789Z"))

    assert started(cache, now=NOW).authenticate("s3cret").name == "alice"


def test_access_token_with_an_unreadable_expiration_authenticates_nobody() -> None:
    cache = FakeCache()
    cache.put(token_key("alice"), access_token("alice", "s3cret", "alice", expires="next tuesday"))

    assert "not known" in unauthorized_message(started(cache), "s3cret")


@pytest.mark.parametrize("spec", [
    {"tokenHash": token_hash("s3cret")},
    {"tokenHash": token_hash("s3cret"), "user": ""},
    {"user": "alice"},
    {"user": "alice", "tokenHash": 42},
])
def test_access_token_without_a_user_or_a_hash_authenticates_nobody(spec: dict[str, Any]) -> None:
    cache = FakeCache()
    cache.put(token_key("broken"), {"kind": "AccessToken", "metadata": {"name": "broken"}, "spec": spec})

    assert "not known" in unauthorized_message(started(cache), "s3cret")


def test_groups_that_are_not_strings_are_left_out() -> None:
    cache = FakeCache()
    cache.put(token_key("alice"), access_token("alice", "s3cret", "alice", ["devs", 7, None]))

    assert started(cache).authenticate("s3cret").groups == ("devs", AUTHENTICATED)


# --------------------------------------------------------------------------------------------------------------
# Revocation: following the watch cache
# --------------------------------------------------------------------------------------------------------------


def test_deleting_the_access_token_revokes_it() -> None:
    cache = FakeCache()
    cache.put(token_key("alice"), access_token("alice", "s3cret", "alice"))
    tokens = started(cache)

    cache.delete(token_key("alice"))

    assert "not known" in unauthorized_message(tokens, "s3cret")


def test_changing_the_token_hash_revokes_the_old_token_and_admits_the_new_one() -> None:
    cache = FakeCache()
    cache.put(token_key("alice"), access_token("alice", "old", "alice"))
    tokens = started(cache)

    cache.put(token_key("alice"), access_token("alice", "new", "alice"))

    assert "not known" in unauthorized_message(tokens, "old")
    assert tokens.authenticate("new").name == "alice"


def test_changing_the_groups_of_a_token_takes_effect_at_once() -> None:
    cache = FakeCache()
    cache.put(token_key("alice"), access_token("alice", "s3cret", "alice", ["devs"]))
    tokens = started(cache)

    cache.put(token_key("alice"), access_token("alice", "s3cret", "alice", ["admins"]))

    assert tokens.authenticate("s3cret").groups == ("admins", AUTHENTICATED)


def test_deleting_one_access_token_leaves_the_others_working() -> None:
    cache = FakeCache()
    cache.put(token_key("alice"), access_token("alice", "a", "alice"))
    cache.put(token_key("bob"), access_token("bob", "b", "bob"))
    tokens = started(cache)

    cache.delete(token_key("alice"))

    assert tokens.authenticate("b").name == "bob"


def test_deleting_one_of_two_access_tokens_with_the_same_hash_keeps_the_other_working() -> None:
    """Copying an AccessToken under a new name and deleting the old one must not revoke the copy: it still exists,
    and a replica that relists would accept the token again."""
    cache = FakeCache()
    cache.put(token_key("old-name"), access_token("old-name", "s3cret", "alice"))
    cache.put(token_key("new-name"), access_token("new-name", "s3cret", "alice"))
    tokens = started(cache)

    cache.delete(token_key("old-name"))

    assert tokens.authenticate("s3cret").name == "alice"


def test_relist_rebuilds_the_index_from_the_cache() -> None:
    """After a relist events may have been missed: what the cache holds now is the truth."""
    cache = FakeCache()
    cache.put(token_key("alice"), access_token("alice", "a", "alice"))
    tokens = started(cache)
    cache.delete(token_key("alice"), quietly=True)
    cache.put(token_key("bob"), access_token("bob", "b", "bob"), quietly=True)

    cache.relist()

    assert "not known" in unauthorized_message(tokens, "a")
    assert tokens.authenticate("b").name == "bob"


def test_access_tokens_outside_the_root_workspace_are_ignored() -> None:
    cache = FakeCache()
    cache.put(token_key("mallory", "root:team-a"), access_token("mallory", "at-start", "admin", ["system:masters"]))
    tokens = started(cache)
    cache.put(token_key("mallory2", "root:team-a"), access_token("mallory2", "later", "admin", ["system:masters"]))
    cache.relist()
    cache.put(token_key("mallory3", "root:team-a"), access_token("mallory3", "after-relist", "admin"))

    for token in ("at-start", "later", "after-relist"):
        assert "not known" in unauthorized_message(tokens, token)


def test_deleting_a_same_named_access_token_in_another_workspace_does_not_revoke_the_root_one() -> None:
    cache = FakeCache()
    cache.put(token_key("alice"), access_token("alice", "s3cret", "alice"))
    cache.put(token_key("alice", "root:team-a"), access_token("alice", "other", "alice"))
    tokens = started(cache)

    cache.delete(token_key("alice", "root:team-a"))

    assert tokens.authenticate("s3cret").name == "alice"


def test_other_resources_of_the_root_workspace_are_ignored() -> None:
    cache = FakeCache()
    tokens = started(cache)

    cache.put(ObjectKey(ROOT_WORKSPACE, "", "secrets", "default", "x"), access_token("x", "s3cret", "alice"))

    assert "not known" in unauthorized_message(tokens, "s3cret")


def test_stopped_authenticator_no_longer_follows_the_cache() -> None:
    cache = FakeCache()
    cache.put(token_key("alice"), access_token("alice", "s3cret", "alice"))
    tokens = started(cache)

    tokens.stop()
    cache.delete(token_key("alice"))

    assert cache.listeners == []
    assert cache.relist_listeners == []


# --------------------------------------------------------------------------------------------------------------
# Hashes, headers and users
# --------------------------------------------------------------------------------------------------------------


def test_token_hash_is_the_prefixed_lowercase_hex_sha256() -> None:
    assert token_hash("abc") == "sha256:" + hashlib.sha256(b"abc").hexdigest()
    assert token_hash("abc") == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize(("header", "token"), [
    ("Bearer abc.def", "abc.def"),
    ("bearer abc", "abc"),
    ("BEARER abc", "abc"),
    ("  Bearer   abc  ", "abc"),
])
def test_bearer_header_yields_its_token(header: str, token: str) -> None:
    assert bearer_token(header) == token


@pytest.mark.parametrize("header", [
    "Basic YWxpY2U6cGFzc3dvcmQ=",
    "",
    "   ",
    "Bearer",
    "Bearer ",
    "Bearer one two",
    "Token abc",
    "abc",
])
def test_malformed_authorization_header_is_unauthorized(header: str) -> None:
    with pytest.raises(Unauthorized, match=r'^Unauthorized: the Authorization header must be "Bearer <token>"'):
        bearer_token(header)


def test_with_authenticated_appends_system_authenticated_once_and_keeps_group_order() -> None:
    assert with_authenticated("alice", ["b", "a", "b"]) == UserInfo("alice", ("b", "a", AUTHENTICATED))
    assert with_authenticated("alice", (AUTHENTICATED, "a")) == UserInfo("alice", (AUTHENTICATED, "a"))
    assert with_authenticated("alice", ()) == UserInfo("alice", (AUTHENTICATED,))
