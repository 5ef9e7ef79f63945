"""A fake WeChat / WeCom API server on 127.0.0.1: tokens, sends, templates, media, robot webhook; records calls."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from aiohttp import web

TOO_LONG = 45002         # WeChat's "content size out of limit"
# The byte limits WeChat and WeCom enforce on what the adapters send: (path, msgtype) -> {field: bytes}.
LIMITS = {
    ("message/custom/send", "text"): {"content": 2048},
    ("message/send", "text"): {"content": 2048},
    ("message/send", "textcard"): {"title": 128, "description": 512},
    ("webhook/send", "markdown"): {"content": 4096},
    ("webhook/send", "text"): {"content": 2048},
}


def too_long(path: str, body: dict | None) -> str:
    """The field of a send that is over WeChat's byte limit ('' when none is)."""
    if not isinstance(body, dict):
        return ""
    kind = body.get("msgtype", "")
    for name, limit in LIMITS.get((path, kind), {}).items():
        if len(str((body.get(kind) or {}).get(name, "")).encode("utf-8")) > limit:
            return f"{kind}.{name}"
    return ""


@dataclass
class Call:
    """One request the fake received."""

    path: str
    query: dict
    body: dict | None


@dataclass
class FakeWechatApi:
    """Serve the endpoints the adapters use; answer queued error codes; count everything."""

    media: dict[str, bytes] = field(default_factory=dict)
    invalid_users: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    errors: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    tokens: set[str] = field(default_factory=set)
    base: str = ""
    _runner: web.AppRunner | None = None
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def fail_next(self, path: str, *codes: int) -> None:
        """Answer the next requests to path (e.g. 'message/custom/send') with these errcodes."""
        self.errors[path].extend(codes)

    def expire_tokens(self) -> None:
        """Make every issued token stale (the next call gets 42001)."""
        self.tokens.clear()

    def to(self, path: str) -> list[Call]:
        """Calls made to one endpoint."""
        return [c for c in self.calls if c.path == path]

    async def start(self) -> FakeWechatApi:
        """Listen on a free port of 127.0.0.1."""
        http = web.Application(client_max_size=20 * 1024 * 1024)
        http.router.add_get("/cgi-bin/token", self._token)
        http.router.add_get("/cgi-bin/gettoken", self._token)
        http.router.add_get("/cgi-bin/media/get", self._media_get)
        http.router.add_post("/cgi-bin/media/upload", self._media_upload)
        http.router.add_post("/cgi-bin/webhook/send", self._webhook)
        http.router.add_post("/cgi-bin/{path:.+}", self._json_call)
        self._runner = web.AppRunner(http, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        """Shut the server down."""
        if self._runner is not None:
            await self._runner.cleanup()

    def _queued_error(self, path: str) -> web.Response | None:
        if self.errors.get(path):
            code = self.errors[path].pop(0)
            return web.json_response({"errcode": code, "errmsg": f"fake error {code}"})
        return None

    def _token_error(self, request: web.Request) -> web.Response | None:
        if request.query.get("access_token") not in self.tokens:
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        return None

    async def _token(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix("/cgi-bin/")
        self.calls.append(Call(path, dict(request.query), None))
        if failed := self._queued_error(path):
            return failed
        token = f"tok-{next(self._counter)}"
        self.tokens.add(token)
        return web.json_response({"errcode": 0, "access_token": token, "expires_in": 7200})

    async def _json_call(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        body = await request.json()
        self.calls.append(Call(path, dict(request.query), body))
        if failed := self._token_error(request) or self._queued_error(path):
            return failed
        if field_name := too_long(path, body):
            return web.json_response({"errcode": TOO_LONG, "errmsg": f"content size out of limit: {field_name}"})
        answer: dict = {"errcode": 0, "errmsg": "ok"}
        if path == "message/send":
            users = [u for u in body.get("touser", "").split("|") if u]
            invalid = [u for u in users if u in self.invalid_users]
            if invalid:
                answer["invaliduser"] = "|".join(invalid)
        if path == "message/template/send":
            answer["msgid"] = next(self._counter)
        return web.json_response(answer)

    async def _media_get(self, request: web.Request) -> web.Response:
        self.calls.append(Call("media/get", dict(request.query), None))
        if failed := self._token_error(request) or self._queued_error("media/get"):
            return failed
        data = self.media.get(request.query.get("media_id", ""))
        if data is None:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        return web.Response(body=data, content_type="image/jpeg")

    async def _media_upload(self, request: web.Request) -> web.Response:
        reader = await request.multipart()
        part = await reader.next()
        data = await part.read() if part is not None else b""
        self.calls.append(Call("media/upload", dict(request.query), {"size": len(data)}))
        if failed := self._token_error(request):
            return failed
        return web.json_response({"errcode": 0, "type": request.query.get("type"),
                                  "media_id": f"up-{next(self._counter)}"})

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(Call("webhook/send", dict(request.query), body))
        if failed := self._queued_error("webhook/send"):
            return failed
        if field_name := too_long("webhook/send", body):
            return web.json_response({"errcode": TOO_LONG, "errmsg": f"content size out of limit: {field_name}"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})
