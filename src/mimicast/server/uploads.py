"""The upload URLs `file/file-upload` hands out: `PUT /uploads/<ticket>` with the file's bytes.

Not an API call: the ticket in the path is the authority (a pre-signed URL), so there is no
signature, quota or permission to check. The body is read only up to the declared size (a
longer one is refused as soon as it shows), checked and stored on a store thread. Answers are
the envelope: `data [{id, sha256, fileSize}]` on success, the error otherwise.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from mimicast.server.runtime import Runtime
from mimicast.services.mail import uploads
from mimicast.services.mail.uploads import Ticket
from mimicast.wire.envelope import JSON_CONTENT_TYPE, envelope, error_envelope
from mimicast.wire.errors import ApiError


async def upload_route(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        ticket = uploads.read_ticket(runtime.deps, request.path_params["ticket"])
        data = await _body(request, ticket)
        stored = await runtime.store.run(uploads.store, runtime.deps, ticket, data)
    except ApiError as error:
        return Response(error_envelope(error), error.status, media_type=JSON_CONTENT_TYPE)
    except ClientDisconnect:
        # Nobody is left to read an answer; this one only ends the request.
        return Response(status_code=400)
    return Response(envelope([stored], []), media_type=JSON_CONTENT_TYPE,
                    headers={"cache-control": "no-store"})


async def _body(request: Request, ticket: Ticket) -> bytes:
    """The request body, which must be the ticket's size: never more of it is held."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip() != str(ticket.size):
        raise uploads.wrong_size(ticket, declared.strip()[:20])
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > ticket.size:
            raise uploads.wrong_size(ticket, f"more than {ticket.size}")
    return bytes(body)
