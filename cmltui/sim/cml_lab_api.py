"""The lab and node lifecycle of the CML 2.9 REST API, as virl2-client and CML scripts use it.

Each handler takes the worker's endpoint and the request and returns a JSON-able body or a
response; `CmlServer` wraps them with its authentication check. Bodies follow
cml-openapi-2.9.json. Refusals answer CML's ErrorResponse with a message naming what is wrong.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from cmltui.clock import Clock
from cmltui.sim.cml_endpoint import CmlEndpoint, error
from cmltui.sim.cml_labs import LabError, SimEvent, SimLab, SimUser
from cmltui.sim.cml_topology import (
    MAX_TEXT,
    MAX_TITLE,
    NODE_DEFINITIONS,
    TopologyError,
    create_interfaces,
    create_link,
    create_node,
    export_yaml,
    interface_body,
    link_body,
    node_body,
    parse_topology_text,
)

API = "/api/v0"
MAX_IMPORT_BYTES = 4 * 1024 * 1024
Handler = Callable[[CmlEndpoint, web.Request], Any]
Wrap = Callable[[Handler], Callable[[web.Request], Awaitable[web.StreamResponse]]]


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "false").lower() in ("true", "1", "yes")


def current_user(ep: CmlEndpoint) -> SimUser:
    """The simulator issues tokens only to its one login, the admin account."""
    return next((u for u in ep.model.users if u.username == ep.username), ep.model.users[1])


class LabApi:
    """Handlers for labs, nodes, links, node definitions and system management."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def routes(self, wrap: Wrap) -> list[web.RouteDef]:
        lab = f"{API}/labs/{{lab_id}}"
        node = f"{lab}/nodes/{{node_id}}"
        return [
            web.post(f"{API}/labs", wrap(self.create_lab)),
            web.post(f"{API}/import", wrap(self.import_lab)),
            web.delete(lab, wrap(self.delete_lab)),
            web.get(f"{lab}/download", wrap(self.download)),
            web.get(f"{lab}/state", wrap(self.lab_state)),
            web.put(f"{lab}/start", wrap(self.start_lab)),
            web.put(f"{lab}/stop", wrap(self.stop_lab)),
            web.put(f"{lab}/wipe", wrap(self.wipe_lab)),
            web.get(f"{lab}/check_if_converged", wrap(self.lab_converged)),
            web.get(f"{lab}/lab_element_state", wrap(self.element_state)),
            web.get(f"{lab}/simulation_stats", wrap(self.simulation_stats)),
            web.get(f"{lab}/nodes", wrap(self.nodes)),
            web.post(f"{lab}/nodes", wrap(self.add_node)),
            web.post(f"{lab}/interfaces", wrap(self.add_interfaces)),
            web.post(f"{lab}/links", wrap(self.add_link)),
            web.get(node, wrap(self.node)),
            web.get(f"{node}/state", wrap(self.node_state)),
            web.put(f"{node}/state/start", wrap(self.start_node)),
            web.put(f"{node}/state/stop", wrap(self.stop_node)),
            web.get(f"{node}/check_if_converged", wrap(self.node_converged)),
            web.get(f"{lab}/links", wrap(self.links)),
            web.get(f"{lab}/links/{{link_id}}", wrap(self.link)),
            web.get(f"{API}/node_definitions", wrap(self.node_definitions)),
            web.get(f"{API}/node_definitions/{{def_id}}", wrap(self.node_definition)),
            web.get(f"{API}/system/compute_hosts", wrap(self.compute_hosts)),
            web.get(f"{API}/system/notices", wrap(self.notices)),
            web.get(f"{API}/system/maintenance_mode", wrap(self.maintenance_mode)),
            web.delete(f"{API}/logout", wrap(self.logout)),
        ]

    # ----- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _lab(ep: CmlEndpoint, request: web.Request) -> SimLab:
        lab_id = request.match_info["lab_id"]
        lab = ep.model.lab(lab_id)
        if lab is None:
            raise LabError(404, f"Lab not found: {lab_id}")
        return lab

    @staticmethod
    def _no_content() -> web.Response:
        return web.Response(status=204)

    # ----- labs -------------------------------------------------------------------------------

    async def create_lab(self, ep: CmlEndpoint, request: web.Request) -> Any:
        try:
            body = await request.json() if request.can_read_body else {}
        except (ValueError, UnicodeDecodeError):
            return error(400, "Request body is not valid JSON.")
        if not isinstance(body, dict):
            return error(400, "Request body: a LabCreate object is required.")
        fields = {}
        for key, limit in (("title", MAX_TITLE), ("description", MAX_TEXT), ("notes", 32768)):
            value = body.get(key, "")
            if not isinstance(value, str) or len(value) > limit:
                return error(400, f"{key}: a string of at most {limit} characters is required.")
            fields[key] = value
        lab = ep.model.book.create_lab(current_user(ep), self.clock.now(), **fields)
        return ep.model.lab_body(lab)

    async def import_lab(self, ep: CmlEndpoint, request: web.Request) -> Any:
        if request.content_length is not None and request.content_length > MAX_IMPORT_BYTES:
            return error(413, f"Topology larger than {MAX_IMPORT_BYTES} bytes.")
        raw = await request.content.read(MAX_IMPORT_BYTES + 1)
        if len(raw) > MAX_IMPORT_BYTES:
            return error(413, f"Topology larger than {MAX_IMPORT_BYTES} bytes.")
        title = request.query.get("title") or None
        if title is not None and len(title) > MAX_TITLE:
            return error(400, f"title: longer than {MAX_TITLE} characters.")
        try:
            data = parse_topology_text(raw.decode("utf-8"))
            lab = ep.model.book.import_lab(current_user(ep), self.clock.now(), data, title)
        except UnicodeDecodeError:
            return error(400, "body: not UTF-8 text.")
        except TopologyError as exc:
            return error(400, f"Invalid topology: {exc}")
        return {"id": lab.id, "warnings": []}

    def delete_lab(self, ep: CmlEndpoint, request: web.Request) -> Any:
        ep.model.book.delete_lab(self._lab(ep, request))
        return self._no_content()

    def download(self, ep: CmlEndpoint, request: web.Request) -> Any:
        lab = self._lab(ep, request)
        now = self.clock.now()
        text = export_yaml(ep.model.lab_header(lab), ep.model.book.topology(lab))
        user = current_user(ep)
        ep.model.book.record(
            SimEvent("export_lab", now, {"lab_id": lab.id, "user_id": user.id}), now
        )
        return web.Response(text=text, content_type="application/x-yaml")

    def lab_state(self, ep: CmlEndpoint, request: web.Request) -> Any:
        return ep.model.book.lab_state(self._lab(ep, request))

    def start_lab(self, ep: CmlEndpoint, request: web.Request) -> Any:
        ep.model.book.start_lab(self._lab(ep, request), current_user(ep), self.clock.now())
        return self._no_content()

    def stop_lab(self, ep: CmlEndpoint, request: web.Request) -> Any:
        ep.model.book.stop_lab(self._lab(ep, request), current_user(ep), self.clock.now())
        return self._no_content()

    def wipe_lab(self, ep: CmlEndpoint, request: web.Request) -> Any:
        ep.model.book.wipe_lab(self._lab(ep, request), current_user(ep), self.clock.now())
        return self._no_content()

    def lab_converged(self, ep: CmlEndpoint, request: web.Request) -> Any:
        return ep.model.book.converged(self._lab(ep, request), self.clock.now())

    def element_state(self, ep: CmlEndpoint, request: web.Request) -> Any:
        return ep.model.element_state_body(self._lab(ep, request), self.clock.now())

    def simulation_stats(self, ep: CmlEndpoint, request: web.Request) -> Any:
        return ep.model.simulation_stats_body(self._lab(ep, request), self.clock.now())

    @staticmethod
    async def _object(request: web.Request, what: str) -> dict[str, Any]:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            raise LabError(400, "Request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise LabError(400, f"Request body: a {what} object is required.")
        return body

    async def add_node(self, ep: CmlEndpoint, request: web.Request) -> Any:
        lab = self._lab(ep, request)
        body = await self._object(request, "NodeCreate")
        book = ep.model.book
        try:
            node = create_node(
                book.topology(lab),
                body,
                book.api_rng,
                book.compute_ids,
                _flag(request, "populate_interfaces"),
            )
        except TopologyError as exc:
            raise LabError(400, f"Invalid node: {exc}") from None
        if book.lab_state(lab) == "STOPPED":
            node.rest_state = "STOPPED"
        lab.modified = self.clock.now()
        return {"id": node.id}

    async def add_interfaces(self, ep: CmlEndpoint, request: web.Request) -> Any:
        lab = self._lab(ep, request)
        body = await self._object(request, "InterfaceCreate")
        node_id = body.get("node")
        node = ep.model.book.node(lab, node_id if isinstance(node_id, str) else "")
        try:
            made = create_interfaces(node, body.get("slot"), ep.model.book.api_rng)
        except TopologyError as exc:
            raise LabError(400, f"Invalid interface: {exc}") from None
        state = "STARTED" if node.is_running() else node.rest_state
        linked = {
            i.id for lk in ep.model.book.topology(lab).links for i in (lk.iface_a, lk.iface_b)
        }
        bodies = [interface_body(i, lab.id, state, i.id in linked) for i in made]
        return bodies[0] if len(bodies) == 1 else bodies

    async def add_link(self, ep: CmlEndpoint, request: web.Request) -> Any:
        lab = self._lab(ep, request)
        body = await self._object(request, "LinkCreate")
        try:
            link = create_link(
                ep.model.book.topology(lab),
                body.get("src_int"),
                body.get("dst_int"),
                ep.model.book.api_rng,
            )
        except TopologyError as exc:
            raise LabError(400, f"Invalid link: {exc}") from None
        lab.modified = self.clock.now()
        return {"id": link.id}

    # ----- nodes and links --------------------------------------------------------------------

    def nodes(self, ep: CmlEndpoint, request: web.Request) -> Any:
        lab = self._lab(ep, request)
        return ep.model.nodes_body(lab, self.clock.now(), _flag(request, "data"))

    def node(self, ep: CmlEndpoint, request: web.Request) -> Any:
        lab = self._lab(ep, request)
        node = ep.model.book.node(lab, request.match_info["node_id"])
        return node_body(node, lab.id, node.state(self.clock.now()))

    def node_state(self, ep: CmlEndpoint, request: web.Request) -> Any:
        lab = self._lab(ep, request)
        node = ep.model.book.node(lab, request.match_info["node_id"])
        state = node.state(self.clock.now())
        progress = {"BOOTED": "Booted", "QUEUED": "Booting", "STARTED": "Booting"}
        return {"state": state, "progress": progress.get(state, "Not running")}

    def start_node(self, ep: CmlEndpoint, request: web.Request) -> Any:
        lab = self._lab(ep, request)
        node = ep.model.book.node(lab, request.match_info["node_id"])
        ep.model.book.start_nodes(lab, [node], current_user(ep), self.clock.now())
        return self._no_content()

    def stop_node(self, ep: CmlEndpoint, request: web.Request) -> Any:
        lab = self._lab(ep, request)
        node = ep.model.book.node(lab, request.match_info["node_id"])
        ep.model.book.stop_nodes(lab, [node], current_user(ep), self.clock.now())
        return self._no_content()

    def node_converged(self, ep: CmlEndpoint, request: web.Request) -> Any:
        lab = self._lab(ep, request)
        return ep.model.book.node(lab, request.match_info["node_id"]).settled(self.clock.now())

    def links(self, ep: CmlEndpoint, request: web.Request) -> Any:
        return ep.model.links_body(self._lab(ep, request), _flag(request, "data"))

    def link(self, ep: CmlEndpoint, request: web.Request) -> Any:
        lab = self._lab(ep, request)
        link_id = request.match_info["link_id"]
        link = ep.model.book.topology(lab).link(link_id)
        if link is None:
            raise LabError(404, f"Link not found: {link_id}")
        return link_body(link, lab.id, ep.model.link_state(lab, link))

    # ----- node definitions and system management ---------------------------------------------

    def node_definitions(self, ep: CmlEndpoint, request: web.Request) -> Any:
        return ep.model.node_definitions_body()

    def node_definition(self, ep: CmlEndpoint, request: web.Request) -> Any:
        def_id = request.match_info["def_id"]
        definition = NODE_DEFINITIONS.get(def_id)
        if definition is None:
            raise LabError(404, f"Node definition not found: {def_id}")
        return definition.body()

    def compute_hosts(self, ep: CmlEndpoint, request: web.Request) -> Any:
        return ep.model.compute_hosts_body(self.clock.now())

    def notices(self, ep: CmlEndpoint, request: web.Request) -> Any:
        return ep.model.notices_body()

    def maintenance_mode(self, ep: CmlEndpoint, request: web.Request) -> Any:
        """virl2-client reads this beside the notices; the simulator is never in maintenance."""
        return {"maintenance_mode": False, "notice": None, "resolved_notice": None}

    def logout(self, ep: CmlEndpoint, request: web.Request) -> Any:
        if _flag(request, "clear_all_sessions"):
            ep.tokens.clear()
        else:
            token = request.headers.get("Authorization", "").partition(" ")[2].strip()
            ep.tokens.pop(token, None)
        return web.json_response(True)
