"""The baselines the API server is measured against, as a separate process:

    python -m bench.bare_handler PORT BODY_FILE CA_DIR            GET: return fixed bytes, nothing else
    python -m bench.bare_handler PORT BODY_FILE CA_DIR ETCD_ADDR  POST: store the body in etcd (one txn), echo it

The second is the floor of any create served by aiohttp over etcd3aio: HTTP in and out plus the etcd write, with
none of the Kubernetes work (decoding, validation, defaults, managedFields, the watch cache).

Both serve TLS exactly as `canopy server` does (its own `tls_context`: a serving certificate signed by the CA in
CA_DIR, client certificates asked for and verified against that CA), so that the comparison is like with like: the
same handshake, the same encryption of every byte, the same client. Only what happens between request and response
differs. The serving certificate is issued into a temporary directory; CA_DIR is only read.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
from pathlib import Path

from aiohttp import web

from controlplane.pki import load_or_create_ca
from controlplane.server import tls_context
from controlplane.storage.etcd import EtcdStorage


def main() -> None:
    port, body, ca_dir = int(sys.argv[1]), Path(sys.argv[2]).read_bytes(), Path(sys.argv[3])
    app = web.Application()
    if len(sys.argv) > 4:
        storage = EtcdStorage([sys.argv[4]])
        keys = itertools.count()

        async def connect(_: web.Application) -> None:
            await storage.connect()

        async def store(request: web.Request) -> web.Response:
            data = await request.read()
            await storage.create(f"/bench-floor/{next(keys):08d}", data)
            return web.Response(body=data, status=201, content_type="application/json")

        app.on_startup.append(connect)
        app.router.add_post("/{tail:.*}", store)
    else:

        async def handler(_: web.Request) -> web.Response:
            return web.Response(body=body, content_type="application/json")

        app.router.add_get("/{tail:.*}", handler)
    with tempfile.TemporaryDirectory() as own_pki:
        context = tls_context(Path(own_pki), load_or_create_ca(ca_dir), ["127.0.0.1"])
        web.run_app(app, host="127.0.0.1", port=port, ssl_context=context, print=None, access_log=None)


if __name__ == "__main__":
    main()
