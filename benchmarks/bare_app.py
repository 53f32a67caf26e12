"""The baseline for `signed_calls.py`: a bare Starlette endpoint returning a fixed envelope.

Routed the way mimicast routes (one `/{path:path}` POST route) and answering a body of the
same shape and about the same size as get-account's, so the difference measured is
mimicast's own work: signature check, rate limit, body decoding, database, serialisation.

Run it as `python benchmarks/bare_app.py --port P`: it calls `uvicorn.run` with the options
`mimicast serve` passes (one worker, default loop and HTTP implementation, access log off,
log level warning), so both servers differ only in the application.
"""

from __future__ import annotations

import argparse

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# Built once: the baseline does no per-request work beyond what Starlette itself does.
ACCOUNT = {
    "region": "US", "archive": True, "gateway": True, "passphrase": "", "supportCode": "DEMO",
    "maxRetention": 30, "maxRetentionConfirmed": True, "minRetentionEnabled": False,
    "automatedSegmentPurge": True, "type": "full", "policyInheritance": False,
    "databaseCode": "usdb01", "searchReason": False,
    "contentAdministratorDefaultView": "Metadata", "adminSessionTimeout": 60,
    "exportApi": True, "exgestAllowQuery": False, "accountCode": "CUSA0DEMO",
    "accountName": "mimicast demo", "adminEmail": "admin@demo.mimicast.test",
    "contactEmail": "admin@demo.mimicast.test", "domain": "demo.mimicast.test",
    "userCount": 1, "mimecastId": "CUSA0DEMO-000001", "contactName": "mimicast demo",
    "telephone": "",
    "packages": ["Email Security Cloud Gateway", "Archive", "Targeted Threat Protection"],
    "mailPlatform": "Other",
}
BODY = orjson.dumps({"meta": {"status": 200}, "data": [ACCOUNT], "fail": []})


async def fixed(_request: Request) -> Response:
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/{path:path}", fixed, methods=["POST"])])


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The same keyword arguments as mimicast.cli.main.serve gives uvicorn.run.
    uvicorn.run(app, host=args.host, port=args.port, workers=1, log_level="warning",
                access_log=False)


if __name__ == "__main__":
    main()
