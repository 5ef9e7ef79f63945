"""`wuzha serve`: the HTTP server, every enabled channel, the scheduler and the outbox senders."""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal

from aiohttp import web

from bot.app import App
from bot.config import Config

log = logging.getLogger(__name__)

# Each "module:function" is `async def start(app, http) -> object with async stop(), or None`.
# It may add routes to the aiohttp application `http` and channels to `app` (app.add_channel).
# The order matters: channels first, then what uses them (the scheduler).
STARTERS: list[str] = [
    "bot.channels.telegram:start",  # when channels.telegram.enabled: long polling or the webhook route
    "bot.channels.wechat_oa:start",   # when channels.wechat_oa.enabled: /wechat/oa callbacks, customer-service sends
    "bot.channels.wecom:start",       # when channels.wecom.enabled: /wechat/work callbacks, app messages
    "bot.channels.wecom_robot:start", # when security_channel.targets has wecom_robot: the group robot webhook
    "bot.scheduler:start",          # keep last: the scheduler uses the channels added before it
]
APP_KEY: web.AppKey[App] = web.AppKey("wuzha", App)   # how the HTTP server's handlers find the App


async def health(request: web.Request) -> web.Response:
    """Liveness and the outbox's state, for monitoring."""
    app: App = request.app[APP_KEY]
    counts = await app.store.outbox.counts()
    return web.json_response({"ok": True, "channels": sorted(app.channels), "outbox": counts})


def build_http(app: App) -> web.Application:
    """The aiohttp application shared by callbacks, webhooks and /health."""
    http = web.Application(client_max_size=64 * 1024)
    http[APP_KEY] = app
    http.router.add_get("/health", health)
    return http


async def start_features(app: App, http: web.Application) -> list:
    """Run every starter; return the running parts to stop later."""
    running = []
    for target in STARTERS:
        module_name, func_name = target.split(":")
        part = await getattr(importlib.import_module(module_name), func_name)(app, http)
        if part is not None:
            running.append(part)
    return running


async def serve(config: Config, stop: asyncio.Event | None = None) -> int:
    """Run until stop is set (or SIGINT/SIGTERM), then shut down cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on the main thread
            pass
    app = await App(config).open()
    http = build_http(app)
    running = await start_features(app, http)
    runner = web.AppRunner(http, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.server.host, config.server.port)
    await site.start()
    log.warning("wuzha serving on %s:%s with channels: %s", config.server.host, config.server.port,
                ", ".join(sorted(app.channels)) or "none")
    print(f"wuzha serving on http://{config.server.host}:{config.server.port} "
          f"(channels: {', '.join(sorted(app.channels)) or 'none enabled'}); Ctrl-C to stop", flush=True)
    senders = asyncio.create_task(app.run_senders(stop))
    try:
        await stop.wait()
    finally:
        log.warning("shutting down")
        await senders                      # finishes the batch in hand
        for part in reversed(running):
            await part.stop()
        await runner.cleanup()
        await app.close()
    return 0
