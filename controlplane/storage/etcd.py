"""The one interface between Canopy and etcd.

Every write is a single etcd transaction guarded by the key's revision, so optimistic concurrency is etcd's, not
ours: `create` succeeds only if the key does not exist, `update` and `delete` only if the key is still at the
revision the caller read. A failed guard returns the object as it now is, so callers can answer 409 with the
truth or retry against it.

The client is etcd3aio (grpc.aio). The design card named etcd3-py; it was replaced after measurement (see the
README's dependency table and docs/performance.md): some 370 puts/s for etcd3-py's async client against about
9,700 guarded puts/s for etcd3aio on the same machine, and a watch that works with current aiohttp.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import grpc.aio
from etcd3aio import Etcd3Client
from etcd3aio._protobuf import Compare, RangeRequest, RequestOp, WatchStub
from etcd3aio.kv import SortOrder, SortTarget, prefix_range_end

from controlplane.encryption import Transformer
from controlplane.storage.keys import CORE_GROUP, ROOT

# Per-call deadline: a stuck etcd must surface as an error the user can read, not as a hung kubectl.
_RPC_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: bytes
    mod_revision: int
    create_revision: int
    # Decrypted with a key other than the current write key: rewriting it, even unchanged, re-encrypts it.
    stale: bool = False


class PreconditionFailed(Exception):
    """A guarded write lost the race. `current` is the key as it is now (None if it does not exist)."""

    def __init__(self, current: KeyValue | None) -> None:
        super().__init__("etcd precondition failed")
        self.current = current


class GuardChanged(Exception):
    """A create's guard key (the namespace it goes into) is no longer at the revision the caller checked."""


class Compacted(Exception):
    """The revision asked for has been compacted away by etcd."""


def _kv(raw: object) -> KeyValue:
    return KeyValue(
        raw.key.decode(),  # type: ignore[attr-defined]
        raw.value,  # type: ignore[attr-defined]
        raw.mod_revision,  # type: ignore[attr-defined]
        raw.create_revision,  # type: ignore[attr-defined]
    )


def _mod_revision_is(key: str, revision: int) -> Compare:
    return Compare(result=Compare.EQUAL, target=Compare.MOD, key=key.encode(), mod_revision=revision)


def endpoint_from_url(url: str) -> str:
    """`http://127.0.0.1:2379` -> `127.0.0.1:2379`, the form the gRPC client takes."""
    url = url.strip()
    for scheme in ("http://", "https://"):
        if url.startswith(scheme):
            url = url[len(scheme):]
    return url.rstrip("/")


@dataclass(frozen=True)
class EtcdTLS:
    """TLS towards etcd, as kube-apiserver's --etcd-cafile / --etcd-certfile / --etcd-keyfile (PEM bytes)."""

    ca: bytes
    cert: bytes | None = None
    key: bytes | None = None

    @classmethod
    def from_files(cls, ca: str, cert: str = "", key: str = "") -> EtcdTLS:
        def read(path: str) -> bytes | None:
            return Path(path).read_bytes() if path else None

        ca_bytes = read(ca)
        assert ca_bytes is not None
        return cls(ca_bytes, read(cert), read(key))


def _encrypted_resource(key: str) -> str:
    """`secrets` for /registry/<ws>/core/secrets/..., `deployments.apps` for an apps key: the name an
    EncryptionConfiguration lists resources by."""
    if not key.startswith(ROOT):
        return ""
    parts = key.split("/", 5)
    if len(parts) < 5:
        return ""
    group, resource = parts[3], parts[4]
    return resource if group == CORE_GROUP else f"{resource}.{group}"


class EtcdStorage:
    """Values of the resources in `encryption` (EncryptionConfiguration, by resource) are encrypted on their way to
    etcd and decrypted on their way back, here and nowhere else; everything above sees plaintext."""

    def __init__(
        self, endpoints: list[str], tls: EtcdTLS | None = None, *, encryption: Mapping[str, Transformer] | None = None
    ) -> None:
        self._encryption = dict(encryption or {})
        self.endpoints = [endpoint_from_url(e) for e in endpoints]
        if tls is None:
            self._client = Etcd3Client(self.endpoints)
        else:
            # The certificate names the host as the URL does (often `localhost`); the gRPC target is an address.
            server_name = urlsplit(endpoints[0] if "://" in endpoints[0] else f"https://{endpoints[0]}").hostname
            self._client = Etcd3Client(
                self.endpoints, ca_cert=tls.ca, cert_key=tls.key, cert_chain=tls.cert, tls_server_name=server_name
            )

    async def connect(self) -> None:
        await self._client.connect()

    def seal(self, key: str, value: bytes) -> bytes:
        """The bytes to store at `key`: encrypted when its resource is configured for encryption."""
        transformer = self._encryption.get(_encrypted_resource(key)) if self._encryption else None
        return transformer.encrypt(key, value) if transformer else value

    def unseal(self, key: str, stored: bytes) -> bytes:
        """The plaintext of what is stored at `key` (EncryptionError when it cannot be decrypted)."""
        return self._unseal(key, stored)[0]

    def _unseal(self, key: str, stored: bytes) -> tuple[bytes, bool]:
        transformer = self._encryption.get(_encrypted_resource(key)) if self._encryption else None
        return transformer.decrypt(key, stored) if transformer else (stored, False)

    def _kv(self, raw: object) -> KeyValue:
        kv = _kv(raw)
        if not self._encryption:
            return kv
        value, stale = self._unseal(kv.key, kv.value)
        return replace(kv, value=value, stale=stale)

    async def close(self) -> None:
        await self._client.close()

    @property
    def _kv_service(self):  # type: ignore[no-untyped-def]
        assert self._client.kv is not None, "EtcdStorage.connect() was not called"
        return self._client.kv

    def watch_stub(self) -> WatchStub:
        channel: grpc.aio.Channel | None = self._client._channel
        assert channel is not None, "EtcdStorage.connect() was not called"
        return WatchStub(channel)

    async def current_revision(self) -> int:
        """etcd's current revision, read linearizably (a quorum read of one absent key)."""
        resp = await self._kv_service.get("/registry-revision-probe", count_only=True, timeout=_RPC_TIMEOUT_SECONDS)
        return int(resp.header.revision)

    async def prefix_summary(self, prefix: str) -> tuple[int, int, int]:
        """(number of keys, highest mod_revision among them, revision read at), in one linearizable read."""
        end = prefix_range_end(prefix)
        kv = self._kv_service
        count = RangeRequest(key=prefix.encode(), range_end=end, count_only=True)
        newest = RangeRequest(key=prefix.encode(), range_end=end, keys_only=True, limit=1,
                              sort_order=RangeRequest.DESCEND, sort_target=RangeRequest.MOD)
        resp = await kv.txn([], [RequestOp(request_range=count), RequestOp(request_range=newest)],
                            timeout=_RPC_TIMEOUT_SECONDS)
        counted, latest = resp.responses[0].response_range, resp.responses[1].response_range
        top = int(latest.kvs[0].mod_revision) if latest.kvs else 0
        return int(counted.count), top, int(resp.header.revision)

    async def get(self, key: str) -> KeyValue | None:
        resp = await self._kv_service.get(key, timeout=_RPC_TIMEOUT_SECONDS)
        return self._kv(resp.kvs[0]) if resp.kvs else None

    async def range(
        self, prefix: str, *, start: str = "", limit: int = 0, revision: int = 0, sealed: bool = False
    ) -> tuple[list[KeyValue], int, bool]:
        """Keys under `prefix` from `start` (inclusive), sorted by key: (kvs, revision read at, more follow).
        `sealed`: values as stored (the caller unseals them, and decides what an undecryptable one means)."""
        try:
            resp = await self._range(prefix, start, limit, revision)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.OUT_OF_RANGE and "compacted" in (exc.details() or ""):
                raise Compacted(exc.details()) from exc
            raise
        convert = _kv if sealed else self._kv
        return [convert(kv) for kv in resp.kvs], int(resp.header.revision), bool(resp.more)

    async def _range(self, prefix: str, start: str, limit: int, revision: int):  # type: ignore[no-untyped-def]
        return await self._kv_service.get(
            start or prefix,
            range_end=prefix_range_end(prefix),
            revision=revision,
            limit=limit,
            sort_order=SortOrder.ASCEND,
            sort_target=SortTarget.KEY,
            timeout=_RPC_TIMEOUT_SECONDS,
        )

    async def _guarded(self, key: str, compare: Compare, success: RequestOp, *extra: Compare) -> int:
        kv = self._kv_service
        resp = await kv.txn(
            [compare, *extra],
            [success],
            [kv.txn_op_get(key)],
            timeout=_RPC_TIMEOUT_SECONDS,
        )
        if not resp.succeeded:
            kvs = resp.responses[0].response_range.kvs
            if extra and not kvs:
                raise GuardChanged(key)
            raise PreconditionFailed(self._kv(kvs[0]) if kvs else None)
        return int(resp.header.revision)

    async def create(self, key: str, value: bytes, *, guard: tuple[str, int] | None = None) -> int:
        """Store a new key; PreconditionFailed if it exists. Returns the revision of the write.

        `guard` (key, mod_revision): write only if that key is still at that revision, else GuardChanged. Creates
        in a namespace are guarded by the namespace as the caller saw it, so an object can never be created in
        a namespace whose deletion began after the check, whatever the caller's cache had seen.
        """
        kv = self._kv_service
        extra = [_mod_revision_is(*guard)] if guard else []
        put = kv.txn_op_put(key, self.seal(key, value))
        return await self._guarded(key, kv.txn_compare_create_revision(key, 0), put, *extra)

    async def update(self, key: str, value: bytes, expected_revision: int) -> int:
        """Replace a key last written at `expected_revision`; PreconditionFailed otherwise."""
        put = self._kv_service.txn_op_put(key, self.seal(key, value))
        return await self._guarded(key, _mod_revision_is(key, expected_revision), put)

    async def delete(self, key: str, expected_revision: int) -> int:
        """Delete a key last written at `expected_revision`; PreconditionFailed otherwise."""
        return await self._guarded(key, _mod_revision_is(key, expected_revision), self._kv_service.txn_op_delete(key))

    # ---- leases (leader election) ---------------------------------------------------------------------------

    async def grant_lease(self, ttl: int) -> int:
        assert self._client.lease is not None, "EtcdStorage.connect() was not called"
        resp = await self._client.lease.grant(ttl, timeout=_RPC_TIMEOUT_SECONDS)
        return int(resp.ID)

    def keep_alive(self, lease_id: int, ttl: int) -> AbstractAsyncContextManager[object]:
        assert self._client.lease is not None, "EtcdStorage.connect() was not called"
        return self._client.lease.keep_alive_context(lease_id, ttl=ttl)

    async def revoke_lease(self, lease_id: int) -> None:
        assert self._client.lease is not None, "EtcdStorage.connect() was not called"
        await self._client.lease.revoke(lease_id, timeout=_RPC_TIMEOUT_SECONDS)

    async def create_with_lease(self, key: str, value: bytes, lease_id: int) -> bool:
        """Create `key` bound to a lease (it vanishes when the lease expires); False if it already exists."""
        kv = self._kv_service
        resp = await kv.txn([kv.txn_compare_create_revision(key, 0)], [kv.txn_op_put(key, value, lease=lease_id)],
                            timeout=_RPC_TIMEOUT_SECONDS)
        return bool(resp.succeeded)

    async def delete_prefix(self, prefix: str) -> int:
        resp = await self._kv_service.delete(prefix, range_end=prefix_range_end(prefix), timeout=_RPC_TIMEOUT_SECONDS)
        return int(resp.header.revision)

    async def compact(self, revision: int) -> None:
        await self._kv_service.compact(revision, timeout=_RPC_TIMEOUT_SECONDS)


