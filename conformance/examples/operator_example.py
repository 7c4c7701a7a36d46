#!/usr/bin/env python3
"""Example operator bridge for ``conformance run --operator exec:COMMAND``.

The conformance suite runs COMMAND once per operator action. It writes ONE JSON object to the command's
stdin and reads ONE JSON object from its stdout; exit status 0 means the answer on stdout is to be read.

Requests (``operation`` says which)::

    {"operation": "call", "chargerId": "CP-1", "action": "RemoteStartTransaction",
     "payload": {"idTag": "CT-VALID-01", "connectorId": 1}}
        -> make YOUR CSMS send this CALL to the charger; answer when the charger has answered:
           {"result": {"status": "Accepted"}}              (the charger's CALLRESULT payload)
           {"error": "charger_offline", "reason": "..."}   (or any short error kind + text)

    {"operation": "provision", "chargerId": "CP-1", "vendor": "...", "model": "...",
     "idTags": [{"idTag": "...", "status": "Accepted|Expired|Blocked", "expiryDate": null|"...",
                 "parentIdTag": null|"..."}], "heartbeatInterval": null|300, ...}
        -> create the idTags (and the charger) in YOUR CSMS; answer {"result": {}}

    {"operation": "set_boot_policy", "chargerId": "CP-1", "policy": "PendingOnce"|"RejectedOnce"|null}
        -> AQ-1: answer the charger's NEXT BootNotification with Pending/Rejected and a later one with
           Accepted; null restores your normal behaviour. Answer {"result": {}}, or
           {"error": "unsupported", "reason": "..."} if your CSMS cannot (AQ-1 is then answered No).

The call must not return before the charger answered (the suite measures nothing here, but it reports
your result). Print nothing else on stdout; diagnostics go to stderr.

This example is a working bridge to ocpp-trio's own HTTP operator API, so it doubles as a demo: replace
``forward`` with calls to your CSMS's API. Configuration by environment: ``OCPP_TRIO_API`` (default
http://127.0.0.1:9001) and ``OCPP_TRIO_TOKEN`` (a bearer token, optional). Standard library only.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

API = os.environ.get("OCPP_TRIO_API", "http://127.0.0.1:9001").rstrip("/")
TOKEN = os.environ.get("OCPP_TRIO_TOKEN")
TIMEOUT = 75.0  # longer than the 30 s a charger may take to answer


def forward(method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """One request to the CSMS's API; its JSON error body becomes our error answer."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if TOKEN:
        headers["Authorization"] = f"Bearer {TOKEN}"
    request = urllib.request.Request(API + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return {"result": json.loads(response.read() or b"{}")}
    except urllib.error.HTTPError as exc:
        try:
            error = json.loads(exc.read())
        except ValueError:
            error = {}
        return {"error": error.get("error", f"http_{exc.code}"), "reason": error.get("reason", str(exc))}
    except OSError as exc:
        return {"error": "unreachable", "reason": f"{API}: {exc}"}


def segment(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def handle(request: dict[str, Any]) -> dict[str, Any]:
    operation = request.get("operation")
    charger = segment(str(request.get("chargerId", "")))
    if operation == "call":
        answer = forward(
            "POST", f"/api/chargers/{charger}/call/{segment(request['action'])}", request["payload"]
        )
        if "result" in answer:
            # ocpp-trio wraps the charger's answer as {"result": payload}
            return {"result": answer["result"].get("result", {})}
        return answer
    if operation == "provision":
        for tag in request.get("idTags", []):
            body = {
                "status": tag["status"],
                "expiry_date": tag["expiryDate"],
                "parent_id_tag": tag["parentIdTag"],
            }
            answer = forward("PUT", f"/api/id-tags/{segment(tag['idTag'])}", body)
            if "error" in answer:
                return answer
        return {"result": {}}
    if operation == "set_boot_policy":
        answer = forward("PUT", f"/api/chargers/{charger}/policy", {"boot_policy": request.get("policy")})
        return {"result": {}} if "result" in answer else answer
    return {"error": "unsupported", "reason": f"unknown operation {operation!r}"}


def main() -> int:
    try:
        request = json.load(sys.stdin)
    except ValueError as exc:
        print(f"operator_example: stdin is not JSON: {exc}", file=sys.stderr)
        return 2
    json.dump(handle(request), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
