"""HTTP for the CA: download a CRL, ask an OCSP responder — within a deadline, never a hang.

A socket timeout alone does not bound a request (name resolution ignores it, and a server that
trickles a byte at a time resets it on every read), so the request runs in a daemon thread and
the caller waits for it at most ``timeout`` seconds. Library errors become one
:class:`CaFetchError` naming the URL.
"""

from __future__ import annotations

import http.client
import socket
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from inventory.register.errors import CaFetchError

MAX_BYTES = 64 << 20  # a CRL of a national CA is megabytes, not gigabytes
USER_AGENT = "tokenfleet"


@dataclass
class _Outcome:
    body: bytes | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CaFetchError(url, "not an http:// or https:// URL")
    return url


def _too_slow(timeout: float) -> str:
    return (f"no complete answer within {timeout:g} s (offline, or the server is slow): try "
            "again later or raise TOKENFLEET_CA_TIMEOUT")


def _describe(err: BaseException, timeout: float) -> str:
    if isinstance(err, urllib.error.HTTPError):
        return f"the server answered HTTP {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError):
        err = err.reason if isinstance(err.reason, BaseException) else err
    if isinstance(err, socket.timeout | TimeoutError):
        return _too_slow(timeout)
    if isinstance(err, socket.gaierror):
        return f"cannot resolve the host name ({err.strerror or err})"
    if isinstance(err, ConnectionRefusedError):
        return "connection refused (offline, or nothing listens there)"
    if isinstance(err, OSError):
        return err.strerror or str(err) or type(err).__name__
    if isinstance(err, http.client.HTTPException):
        return f"bad HTTP answer ({type(err).__name__})"
    return str(err) or type(err).__name__


def _run(request: urllib.request.Request, timeout: float, limit: int, out: _Outcome) -> None:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(limit + 1)
        if len(body) > limit:
            out.error = f"the answer is larger than {limit >> 20} MiB"
        else:
            out.body = body
    except Exception as err:  # any library error becomes a message for the caller
        out.error = _describe(err, timeout)
    finally:
        out.done.set()


def fetch(url: str, *, timeout: float, data: bytes | None = None,
          content_type: str | None = None, accept: str | None = None,
          limit: int = MAX_BYTES) -> bytes:
    """GET (or POST ``data``) ``url``; the body, or ``CaFetchError`` within ``timeout`` s."""
    check_url(url)
    headers = {"User-Agent": USER_AGENT}
    if content_type:
        headers["Content-Type"] = content_type
    if accept:
        headers["Accept"] = accept
    request = urllib.request.Request(url, data=data, headers=headers,
                                     method="POST" if data is not None else "GET")
    out = _Outcome()
    worker = threading.Thread(target=_run, args=(request, timeout, limit, out),
                              name="tokenfleet-ca-fetch", daemon=True)
    worker.start()
    if not out.done.wait(timeout):
        raise CaFetchError(url, _too_slow(timeout))
    if out.error is not None:
        raise CaFetchError(url, out.error)
    assert out.body is not None
    return out.body
