"""School single sign-on (CAS 2.0/3.0): one-time links to /sso/login, ticket validation, binding the chat.

validate_ticket is the reusable part: it asks the CAS server whether a ticket is good for a service
URL and returns the CAS user (the person number), or raises CasError saying why not.
"""

from __future__ import annotations

import html
import logging
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from bot.events import Incoming, Kind, text

log = logging.getLogger(__name__)
CAS_NS = "{http://www.yale.edu/tp/cas}"
BIND = "sso:bind:"                   # the button data with which the chat's dispatcher binds the person


class CasError(Exception):
    """A ticket CAS did not vouch for: reason is 'invalid_ticket', 'unreachable' or 'bad_response'."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def validate_url(cas, service: str, ticket: str) -> str:
    """The serviceValidate (CAS 2.0) or p3/serviceValidate (CAS 3.0) URL for a ticket."""
    path = "/p3/serviceValidate" if cas.version == 3 else "/serviceValidate"
    return cas.server_url.rstrip("/") + path + "?" + urlencode({"service": service, "ticket": ticket})


def parse_cas_response(body: str) -> str:
    """The user of a CAS serviceResponse, or CasError (failure, malformed, DTDs refused)."""
    try:
        root = fromstring(body, forbid_dtd=True)
    except (DefusedXmlException, ParseError, ValueError) as exc:
        raise CasError("bad_response", type(exc).__name__) from exc
    if root.tag != f"{CAS_NS}serviceResponse":
        raise CasError("bad_response", root.tag)
    failure = root.find(f"{CAS_NS}authenticationFailure")
    if failure is not None:
        raise CasError("invalid_ticket", failure.get("code", ""))
    user = root.find(f"{CAS_NS}authenticationSuccess/{CAS_NS}user")
    if user is None or not (user.text or "").strip():
        raise CasError("bad_response", "no user")
    return user.text.strip()


async def validate_ticket(cas, service: str, ticket: str, session: aiohttp.ClientSession | None = None) -> str:
    """Ask CAS whether the ticket is good for the service; return the CAS user or raise CasError."""
    own = session is None
    session = session or aiohttp.ClientSession()
    try:
        async with session.get(validate_url(cas, service, ticket),
                               timeout=aiohttp.ClientTimeout(total=cas.timeout_s)) as response:
            if response.status != 200:
                raise CasError("unreachable", f"HTTP {response.status}")
            body = await response.text()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise CasError("unreachable", type(exc).__name__) from exc
    finally:
        if own:
            await session.close()
    return parse_cas_response(body)


def login_link(cas, token: str) -> str:
    """The one-time link a chat is sent: the bot's own /sso/login."""
    return cas.public_url.rstrip("/") + "/sso/login?" + urlencode({"t": token})


def service_url(cas, token: str) -> str:
    """The service CAS sends the browser back to (and validates the ticket for)."""
    return cas.public_url.rstrip("/") + "/sso/callback?" + urlencode({"t": token})


class SsoRoutes:
    """GET /sso/login and /sso/callback on the bot's HTTP server."""

    def __init__(self, app) -> None:
        self.app = app

    @property
    def cas(self):
        """The [identity.cas] section."""
        return self.app.config.identity.cas

    async def login(self, request: web.Request) -> web.Response:
        """A valid link goes on to the CAS login; anything else gets a page saying why."""
        token = request.query.get("t", "")
        if not token:
            return _refuse(request, 400, "no link token")
        account_id, outcome = await self.app.store.sso_links.check(token)
        if outcome != "ok":
            return await self._failed(request, account_id, f"link_{outcome}")
        raise web.HTTPFound(self.cas.server_url.rstrip("/") + "/login?"
                            + urlencode({"service": service_url(self.cas, token)}))

    async def callback(self, request: web.Request) -> web.Response:
        """CAS sent the browser back with a ticket: spend the link, validate, bind through the chat's dispatcher."""
        token, ticket = request.query.get("t", ""), request.query.get("ticket", "")
        if not token or not ticket:
            return _refuse(request, 400, "no link token or ticket")
        account_id, outcome = await self.app.store.sso_links.spend(token)
        if outcome != "ok":
            return await self._failed(request, account_id, f"link_{outcome}")
        try:
            user = await validate_ticket(self.cas, service_url(self.cas, token), ticket)
        except CasError as exc:
            log.warning("sso: ticket for link of account %s refused: %s", account_id, exc)
            return await self._failed(request, account_id, exc.reason)
        person = await self.app.store.people.by_number(user)
        if person is None or person.forgotten_at:
            log.warning("sso: CAS user %r is not on the roster", user)
            return await self._failed(request, account_id, "not_in_roster")
        key = await self.app.store.sso_links.grant(token, person.id)
        account = await self.app.store.accounts.get(account_id)
        replies = await self.app.handle(Incoming(account.platform, account.user_key, account.chat_key, Kind.BUTTON,
                                                 f"{BIND}{key}"))
        for n, reply in enumerate(replies):
            await self.app.outbox.push_to_address(account.platform, account.chat_key, "sso", reply,
                                                  f"sso:{key[:12]}:{n}", priority=0)
        bound = await self.app.store.accounts.get(account_id)
        if bound is None or bound.person_id != person.id:
            return self._page(account, "identity.sso_page_not_bound", 409)
        return self._page(bound, "identity.sso_page_bound", 200)

    async def _failed(self, request: web.Request, account_id: int | None, reason: str) -> web.Response:
        """The failure page, and the same news in the chat the link was made for."""
        account = await self.app.store.accounts.get(account_id) if account_id else None
        if account is not None:
            lang = account.language or self.app.config.general.default_language
            message = self.app.services.translate(f"identity.sso_{reason}", lang)
            await self.app.outbox.push_to_address(account.platform, account.chat_key, "sso", text(message),
                                                  f"sso:fail:{account.id}:{request.query.get('t', '')[:16]}:{reason}")
        status = {"link_unknown": 404, "link_used": 410, "link_expired": 410, "unreachable": 502}.get(reason, 403)
        return self._page(account, f"identity.sso_{reason}", status)

    def _page(self, account, key: str, status: int) -> web.Response:
        lang = (account.language if account else None) or self.app.config.general.default_language
        body = html.escape(self.app.services.translate(key, lang))
        page = (f"<!doctype html><html lang=\"{lang}\"><meta charset=\"utf-8\">"
                f"<meta name=\"viewport\" content=\"width=device-width\"><title>无诈 wuzha</title>"
                f"<body style=\"font-family:sans-serif;max-width:32em;margin:3em auto\"><p>{body}</p></body></html>")
        return web.Response(status=status, text=page, content_type="text/html")


def _refuse(request: web.Request, status: int, reason: str) -> web.Response:
    log.warning("refused %s %s from %s: %d %s", request.method, request.path, request.remote or "?", status, reason)
    return web.Response(status=status, text=reason)


async def start(app, http: web.Application):
    """The serve starter: add the SSO routes when [identity.cas] is configured."""
    if not app.config.identity.cas.server_url:
        return None
    routes = SsoRoutes(app)
    http.router.add_get("/sso/login", routes.login)
    http.router.add_get("/sso/callback", routes.callback)
    log.warning("school single sign-on on: %s", app.config.identity.cas.server_url)
    return None
