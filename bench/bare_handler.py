"""The baselines the API server is measured against, as a separate process:

    python -m bench.bare_handler PORT BODY_FILE            GET: return fixed bytes, nothing else
    python -m bench.bare_handler PORT BODY_FILE ETCD_ADDR  POST: store the body in etcd (one guarded txn), echo it

The second is the floor of any create served by aiohttp over etcd3aio: HTTP in and out plus the etcd write, with
none of the Kubernetes work (decoding, validation, defaults, managedFields, the watch cache).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from aiohttp import web

from controlplane.storage.etcd import EtcdStorage


def main() -> None:
    port, body = int(sys.argv[1]), Path(sys.argv[2]).read_bytes()
    app = web.Application()
    if len(sys.argv) > 3:
        storage = EtcdStorage([sys.argv[3]])
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
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
