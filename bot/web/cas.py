"""Console sign-in through the school's CAS: /console/login goes to CAS, /console/cas takes the ticket back.

A state value rides in the service URL and in a short-lived cookie set just before the browser leaves;
a ticket coming back without its matching cookie was not asked for by this browser (login CSRF) and is
refused before CAS is asked. The ticket itself is checked with bot.sso.validate_ticket.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from urllib.parse import urlencode

from aiohttp import web

from bot.sso import CasError, validate_ticket
from bot.web.appkey import APP_KEY

log = logging.getLogger(__name__)

STATE_COOKIE = "wuzha_console_cas"
STATE_PATH = "/console/cas"
STATE_SECONDS = 600                   # as long as a sign-in link lives


def enabled(config) -> bool:
    """Whether [identity.cas] is configured."""
    return bool(config.identity.cas.server_url)


def service_url(cas, state: str) -> str:
    """The service CAS sends the browser back to (and validates the ticket for)."""
    return cas.public_url.rstrip("/") + STATE_PATH + "?" + urlencode({"s": state})


def to_cas(request: web.Request) -> web.Response:
    """A redirect to the CAS login, with a fresh state cookie for the way back."""
    config = request.config_dict[APP_KEY].config
    cas, state = config.identity.cas, secrets.token_urlsafe(24)
    response = web.Response(status=302, headers={
        "Location": cas.server_url.rstrip("/") + "/login?" + urlencode({"service": service_url(cas, state)})})
    # Lax, not Strict: the way back is a top-level navigation from the CAS site.
    response.set_cookie(STATE_COOKIE, state, path=STATE_PATH, max_age=STATE_SECONDS, httponly=True, samesite="Lax",
                        secure=cas.public_url.startswith("https://"))
    return response


async def person_from_ticket(request: web.Request) -> tuple[int | None, str]:
    """(person id, "") for a ticket CAS vouches for and a rostered person; else (None, why not)."""
    app = request.config_dict[APP_KEY]
    state, ticket = request.query.get("s", "")[:100], request.query.get("ticket", "")[:512]
    expected = request.cookies.get(STATE_COOKIE, "")
    if not state or not ticket or not expected or not hmac.compare_digest(state.encode(), expected.encode()):
        log.warning("console: CAS return refused: no ticket, or a state this browser did not start")
        return None, "state"
    cas = app.config.identity.cas
    try:
        user = await validate_ticket(cas, service_url(cas, state), ticket)
    except CasError as exc:
        log.warning("console: CAS ticket refused: %s", exc)
        return None, exc.reason
    person = await app.store.people.by_number(user)
    if person is None or person.forgotten_at:
        log.warning("console: CAS user %r is not on the roster", user)
        return None, "not_in_roster"
    return person.id, ""


def forget_state(response: web.StreamResponse) -> web.StreamResponse:
    """Drop the state cookie (each sign-in uses its own)."""
    response.del_cookie(STATE_COOKIE, path=STATE_PATH)
    return response
