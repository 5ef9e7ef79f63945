"""Console sessions: server-side rows keyed by a cookie token's digest, 30 minutes idle, CSRF per session."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from bot.clock import parse_iso
from bot.context import Context
from bot.roles import CLASS_LEADERS, OFFICE_AND_ADMIN, effective_role
from bot.web.appkey import APP_KEY
from storage.records import Account, Person

log = logging.getLogger(__name__)


def digest(token: str) -> str:
    """What the database keeps of a token: its SHA-256, so a copy of the database signs nobody in."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()

COOKIE = "wuzha_console"
IDLE = timedelta(minutes=30)
CONSOLE_ROLES = CLASS_LEADERS | OFFICE_AND_ADMIN     # who has at least one page
TOUCH_AFTER = timedelta(seconds=30)                  # one write per half minute of use, not per request
POLL_HEADER = "X-Console-Poll"                       # the cases page's own refresh: not activity


@dataclass
class Session:
    """A signed-in browser: the person, their role as the chat sees it, the language and the CSRF token."""

    token_hash: str
    person: Person
    role: str
    lang: str
    csrf: str

    def context(self, request: web.Request) -> Context:
        """The handlers' Context for this person (the console is no chat account: account id 0)."""
        services = request.config_dict[APP_KEY].services
        account = Account(id=0, platform="console", user_key=f"person:{self.person.id}", chat_key="",
                          person_id=self.person.id, language=self.lang)
        return Context(services, account, self.person, self.lang)


async def sign_in(request: web.Request, person_id: int) -> web.StreamResponse:
    """Start a session for a verified person (a used link, or a CAS ticket) and send them in."""
    app = request.config_dict[APP_KEY]
    person = await app.store.people.get(person_id)
    if person is None or person.forgotten_at or effective_role(person, app.config) not in CONSOLE_ROLES:
        log.warning("console sign-in refused for person %s: no console role", person_id)
        raise web.HTTPForbidden(text="no console access for this person")
    token = secrets.token_urlsafe(32)
    lang = request.query.get("lang") if request.query.get("lang") in ("zh", "en") else \
        app.config.general.default_language
    await app.store.console.add_session(digest(token), person.id, secrets.token_urlsafe(24), lang)
    await app.store.audit.write("console.sign_in", "", actor_person_id=person.id)
    response = see_other("/console/")
    response.set_cookie(COOKIE, token, path="/console", httponly=True, samesite="Strict",
                        secure=app.config.server.public_url.startswith("https://"))
    return response


async def current(request: web.Request) -> Session | None:
    """The request's live session, or None (expired ones are gone)."""
    token = request.cookies.get(COOKIE, "")
    if not token or len(token) > 100:
        return None
    app = request.config_dict[APP_KEY]
    token_hash = digest(token)
    row = await app.store.console.session(token_hash, IDLE)
    if row is None:
        return None
    person = await app.store.people.get(row["person_id"])
    if person is None or person.forgotten_at:
        await app.store.console.drop_session(token_hash)
        return None
    passive = request.headers.get(POLL_HEADER) == "1" or request.query.get("auto") == "1"   # a page refreshing itself
    if not passive and app.clock.now() - parse_iso(row["last_seen_at"]) >= TOUCH_AFTER:
        await app.store.console.touch_session(token_hash)
    return Session(token_hash, person, effective_role(person, app.config), row["lang"], row["csrf"])


def see_other(location: str) -> web.Response:
    """A 303 to another console page (after a form: reloading does not send it again)."""
    return web.Response(status=303, headers={"Location": location})


def csrf_ok(session: Session, sent: str) -> bool:
    """Whether a form carried this session's CSRF token."""
    return bool(sent) and hmac.compare_digest(sent.encode(), session.csrf.encode())


async def sign_out(request: web.Request, session: Session) -> web.StreamResponse:
    """End the session and forget the cookie."""
    await request.config_dict[APP_KEY].store.console.drop_session(session.token_hash)
    response = see_other("/console/login?out=1")
    response.del_cookie(COOKIE, path="/console")
    return response
