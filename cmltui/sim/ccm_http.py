"""The Cloud Manager double's error answers, shaped as upstream's."""

from __future__ import annotations

import json

from aiohttp import web


def problem(status: int, title: str, detail: str) -> web.HTTPException:
    """Neuroglia's problem-details body, as upstream's `ControllerBase.process` answers."""
    body = json.dumps(
        {
            "title": title,
            "status": status,
            "detail": detail,
            "type": "https://www.w3.org/Protocols/HTTP/HTRESP.html",
        }
    )
    kinds: dict[int, type[web.HTTPException]] = {
        400: web.HTTPBadRequest,
        401: web.HTTPUnauthorized,
        404: web.HTTPNotFound,
    }
    return kinds[status](text=body, content_type="application/json")
