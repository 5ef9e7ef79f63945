"""A fake CAS server (protocol 2.0/3.0) on 127.0.0.1: /login issues service tickets, serviceValidate answers real CAS XML."""

from __future__ import annotations

import itertools
from urllib.parse import urlencode

from aiohttp import web

SUCCESS = """<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationSuccess>
    <cas:user>{user}</cas:user>
    <cas:attributes><cas:displayName>{user}</cas:displayName></cas:attributes>
  </cas:authenticationSuccess>
</cas:serviceResponse>"""
FAILURE = """<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationFailure code="{code}">{message}</cas:authenticationFailure>
</cas:serviceResponse>"""


class FakeCas:
    """Log in as `user` (set it before the browser arrives); tickets are single use and bound to their service."""

    def __init__(self) -> None:
        self.user = "S900"
        self.tickets: dict[str, tuple[str, str]] = {}     # ticket -> (service, user)
        self.validations: list[dict] = []
        self.answer_override: str | None = None            # e.g. malformed XML
        self._numbers = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base = ""

    async def start(self) -> FakeCas:
        """Serve on an ephemeral port of 127.0.0.1."""
        app = web.Application()
        app.router.add_get("/cas/login", self.login)
        app.router.add_get("/cas/serviceValidate", self.validate)
        app.router.add_get("/cas/p3/serviceValidate", self.validate)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/cas"
        return self

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()

    def issue(self, service: str, user: str | None = None) -> str:
        """A service ticket for the service, as a successful login makes."""
        ticket = f"ST-{next(self._numbers)}-fakecas"
        self.tickets[ticket] = (service, user or self.user)
        return ticket

    async def login(self, request: web.Request) -> web.Response:
        """The login page, already logged in: back to the service with a fresh ticket."""
        service = request.query["service"]
        sep = "&" if "?" in service else "?"
        raise web.HTTPFound(service + sep + urlencode({"ticket": self.issue(service)}))

    async def validate(self, request: web.Request) -> web.Response:
        """serviceValidate / p3/serviceValidate: success once per ticket and only for its service."""
        service, ticket = request.query.get("service", ""), request.query.get("ticket", "")
        self.validations.append({"path": request.path, "service": service, "ticket": ticket})
        if self.answer_override is not None:
            return web.Response(text=self.answer_override, content_type="application/xml")
        issued = self.tickets.pop(ticket, None)
        if issued is None:
            body = FAILURE.format(code="INVALID_TICKET", message=f"Ticket {ticket} not recognized")
        elif issued[0] != service:
            body = FAILURE.format(code="INVALID_SERVICE", message="Ticket was issued for another service")
        else:
            body = SUCCESS.format(user=issued[1])
        return web.Response(text=body, content_type="application/xml")
