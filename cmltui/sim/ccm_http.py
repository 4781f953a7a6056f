"""The Cloud Manager double's error answers: upstream's bodies (`ccm_shapes`) as aiohttp errors."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def json_error(status: int, body: dict[str, Any]) -> web.HTTPException:
    """An error answer with upstream's body (`ccm_shapes.problem_details`, `http_exception`…)."""
    kinds: dict[int, type[web.HTTPException]] = {
        400: web.HTTPBadRequest,
        401: web.HTTPUnauthorized,
        403: web.HTTPForbidden,
        404: web.HTTPNotFound,
        422: web.HTTPUnprocessableEntity,
    }
    return kinds[status](text=json.dumps(body), content_type="application/json")
