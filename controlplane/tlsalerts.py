"""Tell a TLS client why its handshake failed: send the alert OpenSSL wrote, before asyncio drops the connection.

When a client certificate does not verify (signed by another CA, expired), OpenSSL writes an alert such as
`unknown_ca` into the connection's outgoing buffer and fails the handshake. asyncio's SSL protocol (CPython 3.11+)
then closes the transport without sending that buffer, so the client sees a bare EOF: kubectl prints
"Unable to connect to the server: EOF", which tells a user nothing. Flushing the outgoing buffer first makes it
print "remote error: tls: unknown certificate authority", as it does against kube-apiserver.

Applied once, by the server, to asyncio's `SSLProtocol`; a Python whose SSL protocol does not have the methods
relied on here is left as it is.
"""

from __future__ import annotations

import ssl
from asyncio import sslproto
from typing import Any

_installed = False


def send_handshake_alerts() -> None:
    global _installed
    protocol: Any = sslproto.SSLProtocol
    if _installed or not all(hasattr(protocol, m) for m in ("_do_handshake", "_process_outgoing",
                                                            "_on_handshake_complete")):
        return

    def _do_handshake(self: Any) -> None:
        try:
            self._sslobj.do_handshake()
        except sslproto.SSLAgainErrors:
            self._process_outgoing()
        except ssl.SSLError as exc:
            self._process_outgoing()  # the alert, e.g. unknown_ca
            self._on_handshake_complete(exc)
        else:
            self._on_handshake_complete(None)

    protocol._do_handshake = _do_handshake
    _installed = True
