"""uvicorn's httptools protocol with a limit on the request head (request line + headers).

httptools itself accepts megabytes of headers, buffering each header whole before handing it
over. This protocol counts the head as it arrives and, past `max_header_bytes`, answers
HTTP 431 with the API's envelope and ends the connection; the request never reaches the app.

Two counts, because the parser reports neither offsets nor partial headers: the parsed pieces
(URL, then each complete header) catch a head that arrives in one read, and the bytes of reads
that end while the head is still open catch one long header before the parser has buffered
megabytes of it. Neither count takes in body bytes, so a large body never trips the limit.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, cast

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from mimicast.wire.envelope import JSON_CONTENT_TYPE, error_envelope
from mimicast.wire.errors import ApiError

DEFAULT_MAX_HEADER_BYTES = 32768
# What the parser does not hand over: ": " and CRLF around each header; the request line's two
# spaces, version and CRLF, and the empty line that ends the head.
HEADER_FRAMING = len(": \r\n")
HEAD_FRAMING = len("  HTTP/1.1\r\n\r\n")

# How long a rejected request may go on arriving before the connection is closed anyway.
LINGER_SECONDS = 5.0

logger = logging.getLogger("uvicorn.error")


class HeaderLimitedProtocol(HttpToolsProtocol):
    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None, *,
                 max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.max_header_bytes = max_header_bytes
        self._head_open = True  # the next bytes are a request head
        self._read_bytes = 0  # bytes of reads that ended inside the current head
        self._parsed_bytes = 0  # the current head's URL and complete headers, with framing
        self._boundary = False  # a head or a message ended during the current read
        self._oversized = False

    def data_received(self, data: bytes) -> None:
        if self._oversized:
            return  # the rest of a rejected request, read only to be dropped (see _reject)
        self._boundary = False
        super().data_received(data)
        if self._head_open and not self._boundary:
            self._read_bytes += len(data)
            self._oversized = self._oversized or self._read_bytes > self.max_header_bytes
        if self._oversized and not self.transport.is_closing():
            self._reject()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._parsed_bytes = HEAD_FRAMING

    def on_url(self, url: bytes) -> None:
        # The method is parsed by the time the URL's first piece arrives.
        self._count(len(url) + (0 if self.url else len(self.parser.get_method())))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + HEADER_FRAMING)
        if not self._oversized:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._head_open, self._boundary = False, True
        # An oversized request never reaches the application (it is answered at the end of
        # this read); neither do requests pipelined behind it.
        if not self._oversized:
            super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._oversized:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._head_open, self._boundary = True, True
        self._read_bytes = 0
        if not self._oversized:
            super().on_message_complete()

    def _count(self, size: int) -> None:
        self._parsed_bytes += size
        if self._parsed_bytes > self.max_header_bytes:
            self._oversized = True

    def _reject(self) -> None:
        logger.warning("Request head larger than %d bytes: answered 431.",
                       self.max_header_bytes)
        if self.cycle is not None and not self.cycle.response_complete:
            # Pipelined behind a request still being answered: an answer now would land in
            # the middle of that response, so the connection just ends.
            self.transport.close()
            return
        body = error_envelope(ApiError("err_request_headers_too_large",
                                       limit=self.max_header_bytes))
        head = [STATUS_LINE[431]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [b"content-type: ", JSON_CONTENT_TYPE.encode(), b"\r\n",
                 b"content-length: ", str(len(body)).encode(), b"\r\n",
                 b"connection: close\r\n\r\n"]
        self.transport.write(b"".join(head) + body)
        # A lingering close: most clients read the answer only once they have sent the whole
        # request. Closing with their bytes unread would reset the connection, and the reset
        # can destroy the answer before they read it; so stop writing, drop what still
        # arrives, and close when they do or after a moment.
        self.transport.write_eof()
        self.flow.resume_reading()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


def header_limited(max_header_bytes: int) -> type[asyncio.Protocol]:
    """What `uvicorn.Config(http=…)` takes: the protocol with its limit bound.

    A partial rather than a subclass made here, because `--workers N` pickles the Config
    into each worker process and a partial of a module-level class pickles by name. uvicorn
    only ever calls it (`http_protocol_class(config=…, server_state=…, app_state=…)`), so it
    stands in for the class.
    """
    return cast("type[asyncio.Protocol]",
                functools.partial(HeaderLimitedProtocol, max_header_bytes=max_header_bytes))
