"""`wuzha serve`: the HTTP server, every enabled channel, the scheduler and the outbox senders."""

from __future__ import annotations

import asyncio
import errno
import fcntl
import logging
import os
import signal
import socket
from pathlib import Path

from aiohttp import ClientPayloadError, web

from bot.app import App
from bot.channels.telegram import start as start_telegram
from bot.channels.wechat_oa import start as start_wechat_oa
from bot.channels.wecom import start as start_wecom
from bot.channels.wecom_robot import start as start_wecom_robot
from bot.config import Config
from bot.scheduler import start as start_scheduler
from bot.sso import start as start_sso
from bot.unproven import start as start_unproven
from bot.web.appkey import APP_KEY
from bot.web.console import start as start_console

log = logging.getLogger(__name__)

# Each is `async def start(app, http) -> object with async stop(), or None`.
# It may add routes to the aiohttp application `http` and channels to `app` (app.add_channel).
# The order matters: channels first, then what uses them (the scheduler).
STARTERS = (
    start_telegram,     # when channels.telegram.enabled: long polling or the webhook route
    start_wechat_oa,    # when channels.wechat_oa.enabled: /wechat/oa callbacks, customer-service sends
    start_wecom,        # when channels.wecom.enabled: /wechat/work callbacks, app messages
    start_wecom_robot,  # when security_channel.targets has wecom_robot: the group robot webhook
    start_sso,          # when identity.cas is set: /sso/login and /sso/callback
    start_unproven,     # privileged bindings made by class code: printed, listed to the office once
    start_console,      # the office console at /console/ (sessions, pages, static files)
    start_scheduler,    # keep last: the scheduler uses the channels added before it
)


async def health(request: web.Request) -> web.Response:
    """Liveness, this process's role (leader or standby) and the outbox's state, for monitoring."""
    app: App = request.app[APP_KEY]
    counts = await app.store.outbox.counts()
    return web.json_response({"ok": True, "channels": sorted(app.channels), "outbox": counts,
                              "role": app.leadership.role, "pid": os.getpid()})


def body_guard(read_timeout_s: float):
    """Middleware: read every body within read_timeout_s (408 otherwise); a client gone mid-body is one DEBUG line."""
    @web.middleware
    async def guard(request: web.Request, handler):
        peer = request.remote or "?"
        if request.body_exists:
            try:
                async with asyncio.timeout(read_timeout_s):
                    if request.content_type == "multipart/form-data":
                        await request.post()  # a form upload is parsed from the stream; post() keeps it
                    else:
                        await request.read()  # kept by aiohttp: the handler's read/json/text reuse it
            except TimeoutError:
                log.warning("refused %s %s from %s: 408 body not received within %gs", request.method,
                            request.path, peer, read_timeout_s)
                return web.Response(status=408, text="request body too slow")
            except web.HTTPRequestEntityTooLarge:
                log.warning("refused %s %s from %s: 413 body too large", request.method, request.path, peer)
                return web.Response(status=413, text="body too large")
            except (ConnectionError, asyncio.IncompleteReadError, ClientPayloadError) as exc:
                log.debug("%s %s from %s: client went away mid-body (%s)", request.method, request.path, peer,
                          type(exc).__name__)
                return web.Response(status=400, text="client went away")
        return await handler(request)
    return guard


def build_http(app: App) -> web.Application:
    """The aiohttp application shared by callbacks, webhooks and /health."""
    http = web.Application(client_max_size=64 * 1024, middlewares=[body_guard(app.config.server.read_timeout_s)])
    http[APP_KEY] = app
    http.router.add_get("/health", health)
    return http


def make_runner(http: web.Application, config: Config) -> web.AppRunner:
    """The runner of the shared server: a connection that has not sent a whole request head within
    server.read_timeout_s (slow headers, or idle after a request) is closed; bodies are timed by body_guard."""
    return web.AppRunner(http, access_log=None, keepalive_timeout=config.server.read_timeout_s)


class StartupError(Exception):
    """What keeps `wuzha serve` from starting, in one line for the operator."""


async def start_features(app: App, http: web.Application, running: list | None = None) -> list:
    """Run every starter; return the running parts to stop later (also in `running`, as they start)."""
    running = [] if running is None else running
    for starter in STARTERS:
        try:
            part = await starter(app, http)
        except StartupError:
            raise
        except Exception as exc:
            log.debug("starter %s failed", starter.__module__, exc_info=True)
            raise StartupError(f"could not start {starter.__module__}: {type(exc).__name__}: {exc}") from exc
        if part is not None:
            running.append(part)
    return running


def check_security_channel(config: Config) -> None:
    """Refuse a security-channel target nothing would deliver to: its report cards would wait unseen."""
    targets = config.security_channel.targets
    telegram = config.channels.telegram
    problem = ""
    if "telegram" in targets and not telegram.enabled:
        problem = "telegram, but channels.telegram.enabled is false"
    elif "telegram" in targets and not telegram.security_chat_id:
        problem = "telegram, but channels.telegram.security_chat_id is not set"
    elif "wecom_robot" in targets and not config.secrets.get("WUZHA_WECOM_ROBOT_KEY"):
        problem = "wecom_robot, but the environment variable WUZHA_WECOM_ROBOT_KEY is not set"
    elif "wecom_app" in targets and not config.channels.wecom.enabled:
        problem = "wecom_app, but channels.wecom.enabled is false"
    if problem:
        raise StartupError(f"security_channel.targets has {problem}: report cards would reach nobody")


def hold_sender_lock(database_path) -> int:
    """Lock the database for this process's life: exactly one `wuzha serve` sends from it.

    Returns the open descriptor (the lock lasts while it is open); a second server is refused in one
    line. flock is released by the kernel when the process dies, so a kill -9 leaves no stale lock.
    """
    path = f"{database_path}.serve.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise StartupError(f"another wuzha serve (pid {holder}) is running on {database_path}; stop it first") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return fd


def listen(host: str, port: int) -> socket.socket:
    """Take the HTTP port before anything connects anywhere, so a port in use stops us cleanly."""
    try:
        return socket.create_server((host, port))
    except OSError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise StartupError(f"server: cannot listen on {host}:{port}: {reason} (server.port or --port)") from exc


async def serve(config: Config, stop: asyncio.Event | None = None) -> int:
    """Run until stop is set (or SIGINT/SIGTERM), then shut down cleanly."""
    check_security_channel(config)
    if config.uses_postgres:      # any number of servers share a PostgreSQL database: claims and leaders keep order
        return await _serve_locked(config, stop)
    Path(config.database_path).parent.mkdir(parents=True, exist_ok=True)
    lock = hold_sender_lock(config.database_path)
    try:
        return await _serve_locked(config, stop)
    finally:
        os.close(lock)


async def _serve_locked(config: Config, stop: asyncio.Event | None) -> int:
    sock = listen(config.server.host, config.server.port)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on the main thread
            pass
    running: list = []
    runner: web.AppRunner | None = None
    app = App(config)
    try:
        await app.open()
        http = build_http(app)
        await start_features(app, http, running)
        runner = make_runner(http, config)
        await runner.setup()
        await web.SockSite(runner, sock).start()
    except BaseException:
        await _shut_down(app, running, runner)    # what started is stopped, the database closed
        sock.close()
        raise
    log.warning("wuzha serving on %s:%s with channels: %s", config.server.host, config.server.port,
                ", ".join(sorted(app.channels)) or "none")
    print(f"wuzha serving on http://{config.server.host}:{config.server.port} "
          f"(channels: {', '.join(sorted(app.channels)) or 'none enabled'}; {app.leadership.role}); Ctrl-C to stop",
          flush=True)
    senders = asyncio.create_task(app.run_senders(stop))
    election = asyncio.create_task(app.leadership.run(stop))   # standbys take the lead when the leader dies
    try:
        await stop.wait()
    finally:
        log.warning("shutting down")
        await election
        await senders                      # finishes the batch in hand
        await _shut_down(app, running, runner)
    return 0


async def _shut_down(app: App, running: list, runner: web.AppRunner | None) -> None:
    """Stop the running parts in reverse order, then the HTTP server, then close the database."""
    try:
        for part in reversed(running):
            try:
                await part.stop()
            except Exception:
                log.exception("could not stop %s cleanly", type(part).__name__)
        if runner is not None:
            await runner.cleanup()
    finally:
        await app.close()
