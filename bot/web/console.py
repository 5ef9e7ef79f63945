"""`/console/`: the office console on `wuzha serve`'s HTTP server (a sub-application with its own middleware).

Every page checks the person's role with the chat's own role sets; every form carries the session's CSRF
token; every answer carries a strict Content-Security-Policy and no-store. Pages render on the server
(Jinja2, autoescaped) and work without JavaScript; console.js only refreshes the cases list in place.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import time
from datetime import date
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.events import Incoming, Kind
from bot.roles import CLASS_LEADERS, OFFICE, OFFICE_AND_ADMIN
from bot.web import cas
from bot.web.appkey import APP_KEY
from bot.web.sessions import Session, csrf_ok, current, digest, see_other, sign_in, sign_out
from handlers import office
from handlers.console import actions, audit, cases, classes, figures, roster, warnings

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
# Pages in the menu and who may open them: the same role sets as the chat commands behind them.
PAGES = (
    ("cases", "console.nav_cases", OFFICE),                       # /reports, /casefile, the card buttons
    ("figures", "console.nav_figures", OFFICE),                   # /stats
    ("warnings", "console.nav_warnings", OFFICE),                 # /warn
    ("classes", "console.nav_classes", CLASS_LEADERS | OFFICE),   # /class (/remind: CLASS_LEADERS)
    ("roster", "console.nav_roster", OFFICE_AND_ADMIN),           # `wuzha roster import`
    ("ledger", "console.nav_ledger", OFFICE_AND_ADMIN),           # /export
    ("audit", "console.nav_audit", OFFICE_AND_ADMIN),             # `wuzha audit`
)
SESSION_KEY: web.RequestKey[Session | None] = web.RequestKey("console_session", object)
SMALL_FORM = 4096                     # the sign-in form: a token, nothing more
PENDING_ROSTERS: web.AppKey[dict] = web.AppKey("console_rosters", dict)   # session -> checked upload
INLINE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}   # never SVG: it can carry script


@web.middleware
async def guard(request: web.Request, handler) -> web.StreamResponse:
    """Security headers on everything; the session looked up; CSRF checked on every POST but sign-in."""
    started = time.perf_counter()
    try:
        session = await current(request)
        request[SESSION_KEY] = session
        if request.method == "POST" and request.path == "/console/login":
            if (request.content_length or 0) > SMALL_FORM:
                raise web.HTTPRequestEntityTooLarge(max_size=SMALL_FORM, actual_size=request.content_length)
        elif request.method == "POST":
            if session is None:             # nobody signed in: not even the body is read
                log.warning("console: refused %s %s without a session", request.method, request.path)
                raise web.HTTPForbidden(text="sign in first")
            form = await request.post()
            if not csrf_ok(session, str(form.get("csrf", ""))):
                log.warning("console: refused %s %s without a valid CSRF token", request.method, request.path)
                raise web.HTTPForbidden(text="CSRF token missing or wrong")
        response = await handler(request)
    except web.HTTPException as exc:
        response = web.Response(status=exc.status, text=exc.text, headers=exc.headers)
    response.headers.setdefault("Content-Security-Policy", CSP)     # an evidence file keeps its stricter one
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    if not request.path.startswith("/console/static/"):
        response.headers["Cache-Control"] = "no-store"
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


async def allowed(request: web.Request, roles) -> Session:
    """The session if its role may do this; else a sign-in redirect or a 403 (audited), nothing changed."""
    session: Session | None = request[SESSION_KEY]
    if session is None:
        if request.method == "GET":
            raise web.HTTPSeeOther("/console/login")
        raise web.HTTPUnauthorized(text="sign in first")
    if session.role not in roles:
        await request.config_dict[APP_KEY].store.audit.write(
            "console.refused", request.path[:120], actor_person_id=session.person.id, detail={"role": session.role})
        log.warning("console: %s refused to person %s (role %s)", request.path, session.person.id, session.role)
        raise web.HTTPForbidden(text=translate(request, session, "console.forbidden"))
    return session


def translate(request: web.Request, session: Session | None, key: str, **values) -> str:
    """An interface string in the browser's language."""
    app = request.config_dict[APP_KEY]
    lang = session.lang if session else lang_of(request)
    return app.services.translate(key, lang, **values)


def lang_of(request: web.Request) -> str:
    """The language of a page without a session: ?lang=, else the school's default."""
    lang = request.query.get("lang", "")
    return lang if lang in ("zh", "en") else request.config_dict[APP_KEY].config.general.default_language


def page(request: web.Request, template: str, session: Session | None, status: int = 200, **values):
    """Render a page with the menu, language switch and CSRF token."""
    app = request.config_dict[APP_KEY]
    lang = session.lang if session else lang_of(request)

    def t(key: str, **kw) -> str:
        return app.services.translate(key, lang, **kw)

    menu = [(name, label) for name, label, roles in PAGES if session and session.role in roles]
    return aiohttp_jinja2.render_template(template, request, {
        "t": t, "lang": lang, "session": session, "menu": menu, "csrf": session.csrf if session else "",
        "path": request.path_qs, **values}, status=status)


async def _flash(request: web.Request, session: Session) -> str:
    return await request.config_dict[APP_KEY].store.console.pop_flash(session.token_hash)


async def _done(request: web.Request, session: Session, message: str, location: str) -> web.Response:
    await request.config_dict[APP_KEY].store.console.set_flash(session.token_hash, message)
    return see_other(location)


# --- sign-in -----------------------------------------------------------------------------------------
async def index(request: web.Request) -> web.StreamResponse:
    """The first page the role may open, or the sign-in page."""
    session: Session | None = request[SESSION_KEY]
    if session is None:
        raise web.HTTPSeeOther("/console/login")
    for name, _label, roles in PAGES:
        if session.role in roles:
            raise web.HTTPSeeOther(f"/console/{name}")
    raise web.HTTPForbidden(text=translate(request, session, "console.forbidden"))


async def login_page(request: web.Request) -> web.StreamResponse:
    """The link's landing page (a button that uses it: a link preview uses nothing); without a link, CAS."""
    token = request.query.get("token", "")[:100]
    use_cas = cas.enabled(request.config_dict[APP_KEY].config)
    if use_cas and not token and "out" not in request.query:     # after signing out, not straight back in
        return cas.to_cas(request)
    return page(request, "login.html", None, token=token, cas=use_cas)


async def cas_return(request: web.Request) -> web.StreamResponse:
    """CAS sent the browser back with a ticket: a session for the person it vouches for, or a page saying why."""
    if not cas.enabled(request.config_dict[APP_KEY].config):
        log.warning("console: CAS return refused: [identity.cas] is not configured")
        raise web.HTTPNotFound(text="no single sign-on here")
    person_id, reason = await cas.person_from_ticket(request)
    if person_id is None:
        status = {"state": 400, "unreachable": 502, "bad_response": 502}.get(reason, 403)
        return cas.forget_state(page(request, "login.html", None, status=status, token="", cas=True,
                                     failure=translate(request, None, f"console.cas_{reason}")))
    return cas.forget_state(await enter(request, person_id))


async def enter(request: web.Request, person_id: int) -> web.StreamResponse:
    """Start the verified person's session, or a page saying they have no console role."""
    try:
        return await sign_in(request, person_id)
    except web.HTTPForbidden:
        return page(request, "login.html", None, status=403, token="",
                    cas=cas.enabled(request.config_dict[APP_KEY].config),
                    failure=translate(request, None, "console.no_console_role"))


async def login(request: web.Request) -> web.StreamResponse:
    """Use a one-time link: start a session, or refuse a used, expired or unknown one."""
    form = await request.post()
    token = str(form.get("token", ""))[:100]
    person_id = await request.config_dict[APP_KEY].store.console.take_link(digest(token)) if token else None
    if person_id is None:
        log.warning("console: sign-in with an unknown, used or expired link refused")
        return page(request, "login.html", None, status=403, token="", refused=True)
    return await enter(request, person_id)


async def logout(request: web.Request) -> web.StreamResponse:
    """Sign out (POST with the CSRF token)."""
    session = request[SESSION_KEY]
    return await sign_out(request, session)


async def set_lang(request: web.Request) -> web.StreamResponse:
    """Switch 中文 / English for this session."""
    session: Session = request[SESSION_KEY]
    form = await request.post()
    lang = str(form.get("lang", ""))
    if lang in ("zh", "en"):
        await request.config_dict[APP_KEY].store.console.set_session_lang(session.token_hash, lang)
    back = str(form.get("next", "/console/"))
    return see_other(back if back.startswith("/console/") and "//" not in back else "/console/")


# --- cases ---------------------------------------------------------------------------------------------
async def cases_page(request: web.Request) -> web.StreamResponse:
    """The open cases, urgent on top, with filters; ?rows=1 answers only the table body (the live refresh)."""
    session = await allowed(request, OFFICE)
    ctx = session.context(request)
    data = await cases.case_list(ctx, cases.CaseFilters.from_query(request.query, ctx.library.types))
    if request.query.get("rows") == "1":
        return page(request, "_case_rows.html", session, **data)
    if request.query.get("auto") != "1":       # the page's own refresh without scripts is not a new look
        await ctx.audit("report.list", "console", count=data["total"])
    refresh = request.rel_url.update_query(auto="1")
    return page(request, "cases.html", session, flash=await _flash(request, session), refresh_url=str(refresh),
                **data)


async def case_page(request: web.Request) -> web.StreamResponse:
    """One case: fields, timeline, identifiers with the other cases naming them, evidence (audited)."""
    session = await allowed(request, OFFICE)
    data = await cases.case_page(session.context(request), request.match_info["case_no"][:20])
    if data is None:
        raise web.HTTPNotFound(text=translate(request, session, "console.no_case"))
    return page(request, "case.html", session, flash=await _flash(request, session), case=data)


async def case_action(request: web.Request) -> web.StreamResponse:
    """Acknowledge / assign / resolve / reply, exactly as the chat does them."""
    session = await allowed(request, OFFICE)
    case_no = request.match_info["case_no"][:20]
    answer = await actions.run_case_action(session.context(request), case_no, request.match_info["action"],
                                           await request.post())
    if answer is None:
        raise web.HTTPNotFound(text=translate(request, session, "console.no_case"))
    back = "/console/cases" if (await request.post()).get("back") == "list" else f"/console/cases/{case_no}"
    return await _done(request, session, answer, back)


async def evidence(request: web.Request) -> web.StreamResponse:
    """One evidence file: photos inline, other files as a download (audited)."""
    session = await allowed(request, OFFICE)
    item_id = request.match_info["evidence_id"]
    found = await cases.evidence_file(session.context(request), int(item_id)) if item_id.isdigit() else None
    if found is None:
        raise web.HTTPNotFound(text=translate(request, session, "console.no_file"))
    data, filename, photo = found
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in filename) or "file"
    headers = {"Content-Disposition": f'{"inline" if photo else "attachment"}; filename="{ascii_name}"',
               "Content-Security-Policy": "default-src 'none'; sandbox"}
    guessed = mimetypes.guess_type(filename)[0] or ""
    shown = guessed if photo and guessed in INLINE_TYPES else ("image/jpeg" if photo else "application/octet-stream")
    return web.Response(body=data, content_type=shown, headers=headers)


# --- figures, classes, ledger, audit -------------------------------------------------------------------
async def figures_page(request: web.Request) -> web.StreamResponse:
    """/stats' figures for a scope and period, with charts."""
    session = await allowed(request, OFFICE)
    data = await figures.figures_page(session.context(request), request.query.get("scope", "")[:60],
                                      request.query.get("period", "")[:30])
    return page(request, "figures.html", session, f=data)


async def classes_page(request: web.Request) -> web.StreamResponse:
    """A class leader's own classes (the office: any class it names) and who is missing what."""
    session = await allowed(request, CLASS_LEADERS | OFFICE)
    data = await classes.classes_page(session.context(request), request.query.get("class", "")[:60])
    can_remind = session.role in CLASS_LEADERS
    return page(request, "classes.html", session, flash=await _flash(request, session), can_remind=can_remind,
                **data)


async def remind(request: web.Request) -> web.StreamResponse:
    """The remind button: /remind's rules (their own class only, once per item, person and day)."""
    session = await allowed(request, CLASS_LEADERS)
    form = await request.post()
    item, class_id = str(form.get("item", "")), str(form.get("class_id", ""))[:12]
    answer = await classes.remind_class(session.context(request), item, class_id)
    return await _done(request, session, answer, "/console/classes")


async def warnings_page(request: web.Request) -> web.StreamResponse:
    """Compose a warning or pick a library case, choose the audience; delivery figures of one sent."""
    session = await allowed(request, OFFICE)
    data = await warnings.warnings_page(session.context(request), request.query.get("id", "")[:12])
    return page(request, "warnings.html", session, flash=await _flash(request, session), form={}, **data)


def _warning_form(form) -> tuple[str, str, dict]:
    content = str(form.get("case_id", "")) or str(form.get("body", ""))[:2000]
    audience = str(form.get("audience", "")) or str(form.get("audience_name", ""))[:60]
    return content, audience, {k: str(form.get(k, "")) for k in ("case_id", "body", "audience", "audience_name")}


async def warning_preview(request: web.Request) -> web.StreamResponse:
    """/warn's count and the message in zh and en, before publishing."""
    session = await allowed(request, OFFICE)
    content, audience, fields = _warning_form(await request.post())
    ctx = session.context(request)
    shown = await warnings.preview(ctx, content, audience)
    return page(request, "warnings.html", session, form=fields, shown=shown,
                **await warnings.warnings_page(ctx, ""))


async def warning_publish(request: web.Request) -> web.StreamResponse:
    """Publish as /warn does, then show its delivery figures."""
    session = await allowed(request, OFFICE)
    content, audience, _fields = _warning_form(await request.post())
    answer, warning_id = await warnings.publish(session.context(request), content, audience)
    return await _done(request, session, answer, f"/console/warnings?id={warning_id}" if warning_id
                       else "/console/warnings")


def roster_view(request: web.Request, session: Session, **values):
    """The roster page (upload, its check, the invite form)."""
    days = request.config_dict[APP_KEY].config.identity.invite_days
    return page(request, "roster.html", session, invite_days=days, **values)


async def roster_page(request: web.Request) -> web.StreamResponse:
    """The upload form."""
    session = await allowed(request, OFFICE_AND_ADMIN)
    return roster_view(request, session, flash=await _flash(request, session))


async def roster_preview(request: web.Request) -> web.StreamResponse:
    """Check an uploaded CSV / XLSX: accepted and rejected lines with their numbers and reasons."""
    session = await allowed(request, OFFICE_AND_ADMIN)
    upload = (await request.post()).get("file")
    if not isinstance(upload, web.FileField):
        return roster_view(request, session, flash=translate(request, session, "console.roster_no_file"))
    data = upload.file.read(roster.MAX_BYTES + 1)
    ctx = session.context(request)
    accepted, rejected = await roster.check_upload(ctx, upload.filename or "", data)
    checked = hashlib.sha256(data).hexdigest()
    request.config_dict[PENDING_ROSTERS][session.token_hash] = (checked, [row for _line, row in accepted])
    return roster_view(request, session, accepted=accepted[:roster.PREVIEW_ROWS], total=len(accepted),
                rejected=roster.reasons(ctx, rejected), checked=checked, filename=upload.filename or "")


async def roster_invite(request: web.Request) -> web.StreamResponse:
    """A personal invite by /invite's code; shown once on this page (never kept as a flash)."""
    session = await allowed(request, OFFICE_AND_ADMIN)
    number = str((await request.post()).get("number", "")).strip()
    return roster_view(request, session, invite=await roster.invite(session.context(request), number))


async def roster_import(request: web.Request) -> web.StreamResponse:
    """Import the accepted rows of the upload just previewed (nothing else)."""
    session = await allowed(request, OFFICE_AND_ADMIN)
    pending = request.config_dict[PENDING_ROSTERS].pop(session.token_hash, None)
    if pending is None or pending[0] != (await request.post()).get("checked"):
        return await _done(request, session, translate(request, session, "console.roster_expired"), "/console/roster")
    inserted, updated = await roster.import_rows(session.context(request), pending[1])
    return await _done(request, session, translate(request, session, "console.roster_done", added=inserted,
                                                   updated=updated), "/console/roster")


async def ledger_page(request: web.Request) -> web.StreamResponse:
    """The ledger form: period, college, format."""
    session = await allowed(request, OFFICE_AND_ADMIN)
    app = request.config_dict[APP_KEY]
    today = date.fromisoformat(session.context(request).today())
    return page(request, "ledger.html", session, flash=await _flash(request, session),
                colleges=await app.store.classes.colleges(), first=today.replace(day=1).isoformat(),
                last=today.isoformat())


async def ledger_download(request: web.Request) -> web.StreamResponse:
    """The 台账 file, made and audited by /export's own code."""
    session = await allowed(request, OFFICE_AND_ADMIN)
    form = await request.post()
    first, last = str(form.get("first", ""))[:10], str(form.get("last", ""))[:10]
    college, fmt = str(form.get("college", ""))[:60], str(form.get("format", "xlsx"))
    payload = " ".join(p for p in (f"{first}..{last}", college, fmt if fmt in ("xlsx", "csv") else "xlsx") if p)
    msg = Incoming("console", "", "", Kind.COMMAND, payload, command="export")
    replies = await office.export_file(msg, session.context(request))
    made = next((r for r in replies if r.file is not None), None)
    if made is None:
        return await _done(request, session, "\n".join(r.text for r in replies), "/console/ledger")
    ascii_name = made.filename.encode("ascii", "replace").decode().replace("?", "_")
    return web.Response(body=made.file, content_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{ascii_name}"'})


async def audit_page(request: web.Request) -> web.StreamResponse:
    """The audit log with filters."""
    session = await allowed(request, OFFICE_AND_ADMIN)
    return page(request, "audit.html", session, **await audit.audit_page(session.context(request), request.query))


def build_console() -> web.Application:
    """The /console sub-application."""
    console = web.Application(middlewares=[guard], client_max_size=roster.MAX_BYTES + 64 * 1024)
    console[PENDING_ROSTERS] = {}
    aiohttp_jinja2.setup(console, loader=jinja2.FileSystemLoader(HERE / "templates"),
                         autoescape=jinja2.select_autoescape(default=True, default_for_string=True))
    console.router.add_get("/", index)
    console.router.add_get("/login", login_page)
    console.router.add_post("/login", login)
    console.router.add_get("/cas", cas_return)
    console.router.add_post("/logout", logout)
    console.router.add_post("/lang", set_lang)
    console.router.add_get("/cases", cases_page)
    console.router.add_get("/cases/{case_no}", case_page)
    console.router.add_post("/cases/{case_no}/{action}", case_action)
    console.router.add_get("/evidence/{evidence_id}", evidence)
    console.router.add_get("/figures", figures_page)
    console.router.add_get("/classes", classes_page)
    console.router.add_post("/classes/remind", remind)
    console.router.add_get("/warnings", warnings_page)
    console.router.add_post("/warnings/preview", warning_preview)
    console.router.add_post("/warnings/publish", warning_publish)
    console.router.add_get("/roster", roster_page)
    console.router.add_post("/roster/preview", roster_preview)
    console.router.add_post("/roster/import", roster_import)
    console.router.add_post("/roster/invite", roster_invite)
    console.router.add_get("/ledger", ledger_page)
    console.router.add_post("/ledger", ledger_download)
    console.router.add_get("/audit", audit_page)
    console.router.add_static("/static/", HERE / "static")
    return console


async def start(app, http: web.Application) -> None:
    """Starter for `wuzha serve`: mount the console at /console/."""
    http.add_subapp("/console", build_console())
