"""Test helpers for the WeChat channels: a person who writes to the bot exactly as WeChat's servers would."""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
import xmltodict
from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto
from wechatpy.utils import WeChatSigner

from bot.app import App
from bot.clock import iso
from bot.serve import build_http, make_runner

OA_TOKEN = "oa-token"
OA_APPID = "wx-test-appid"
OA_AES_KEY = base64.b64encode(bytes(range(32))).decode()[:-1]
WECOM_TOKEN = "wecom-token"
WECOM_CORPID = "ww-test-corp"
WECOM_AES_KEY = base64.b64encode(bytes(range(32, 64))).decode()[:-1]
_ids = itertools.count(10_000_000)


def wechat_secrets(api_base: str) -> dict[str, str]:
    """Every WeChat / WeCom secret a test server needs, pointing the APIs at the fake."""
    return {
        "WUZHA_WECHAT_TOKEN": OA_TOKEN, "WUZHA_WECHAT_AES_KEY": OA_AES_KEY, "WUZHA_WECHAT_APPID": OA_APPID,
        "WUZHA_WECHAT_SECRET": "oa-secret", "WUZHA_WECHAT_API_BASE": api_base,
        "WUZHA_WECOM_TOKEN": WECOM_TOKEN, "WUZHA_WECOM_AES_KEY": WECOM_AES_KEY, "WUZHA_WECOM_CORPID": WECOM_CORPID,
        "WUZHA_WECOM_SECRET": "wecom-secret", "WUZHA_WECOM_AGENTID": "1000002", "WUZHA_WECOM_API_BASE": api_base,
        "WUZHA_WECOM_ROBOT_KEY": "robot-key",
    }


def sign(*parts: str) -> str:
    """WeChat's SHA1 signature of the sorted parts."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


@dataclass
class Served:
    """The running HTTP server of a test."""

    runner: web.AppRunner
    base: str
    running: list

    async def stop(self) -> None:
        """Stop the starters' parts, then the server."""
        for part in self.running:
            await part.stop()
        await self.runner.cleanup()


async def serve_http(app, starters) -> Served:
    """Run the real shared HTTP server with the given starters on 127.0.0.1."""
    http = build_http(app)
    running = [await starter(app, http) for starter in starters]
    runner = make_runner(http, app.config)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return Served(runner, f"http://127.0.0.1:{port}", [r for r in running if r is not None])


@dataclass
class Reply:
    """What the callback answered."""

    status: int
    body: str
    fields: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The passive reply's text ('' for 'success')."""
        return self.fields.get("Content", "") or ""


@dataclass
class WechatPerson:
    """Someone on the Official Account (aes=True: safe mode) or in WeCom, posting signed callbacks."""

    session: aiohttp.ClientSession
    url: str
    user: str
    platform: str = "wechat_oa"      # or wecom
    aes: bool = True
    last: Reply | None = None

    def _crypto(self):
        if self.platform == "wecom":
            return WeComCrypto(WECOM_TOKEN, WECOM_AES_KEY, WECOM_CORPID)
        return WeChatCrypto(OA_TOKEN, OA_AES_KEY, OA_APPID)

    def xml(self, msg_type: str, create_time: int | None = None, msg_id: int | None = None, **fields) -> str:
        """A callback document as WeChat writes it."""
        created = create_time or int(time.time())
        extra = "".join(f"<{k}><![CDATA[{str(v).replace(']]>', ']]]]><![CDATA[>')}]]></{k}>"
                        for k, v in fields.items())
        msg_id_xml = "" if msg_type == "event" else f"<MsgId>{msg_id or next(_ids)}</MsgId>"
        agent = "<AgentID>1000002</AgentID>" if self.platform == "wecom" else ""
        return (f"<xml><ToUserName><![CDATA[gh_target]]></ToUserName><FromUserName><![CDATA[{self.user}]]>"
                f"</FromUserName><CreateTime>{created}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
                f"{extra}{msg_id_xml}{agent}</xml>")

    def signed(self, xml: str, timestamp: int | None = None) -> tuple[dict, str]:
        """Query string and body for a callback, encrypted when the account is in safe mode (or WeCom)."""
        timestamp, nonce = str(int(time.time()) if timestamp is None else timestamp), f"n{next(_ids)}"
        if self.platform == "wechat_oa" and not self.aes:
            return {"signature": sign(OA_TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                    "openid": self.user}, xml
        envelope = xmltodict.parse(self._crypto().encrypt_message(xml, nonce, timestamp))["xml"]
        body = (f"<xml><ToUserName><![CDATA[gh_target]]></ToUserName>"
                f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>")
        query = {"msg_signature": envelope["MsgSignature"], "timestamp": timestamp, "nonce": nonce}
        if self.platform == "wechat_oa":
            query.update(signature=sign(OA_TOKEN, timestamp, nonce), openid=self.user, encrypt_type="aes")
        return query, body

    async def post(self, query: dict, body: str | bytes) -> Reply:
        """POST a callback and read the (decrypted) reply."""
        async with self.session.post(self.url, params=query, data=body) as response:
            text = await response.text()
        reply = Reply(response.status, text)
        if response.status == 200 and text.startswith("<xml>"):
            outer = xmltodict.parse(text)["xml"]
            if "Encrypt" in outer:
                inner = self._crypto().decrypt_message(text, outer["MsgSignature"], outer["TimeStamp"],
                                                       outer["Nonce"])
                outer = xmltodict.parse(inner)["xml"]
            reply.fields = outer
        self.last = reply
        return reply

    async def send(self, msg_type: str, **fields) -> Reply:
        """Send one message or event, signed (and encrypted) as WeChat does."""
        query, body = self.signed(self.xml(msg_type, **fields))
        return await self.post(query, body)

    async def say(self, text: str) -> Reply:
        """A text message."""
        return await self.send("text", Content=text)

    async def event(self, event: str, **fields) -> Reply:
        """An event (subscribe, unsubscribe, CLICK with EventKey)."""
        return await self.send("event", Event=event, **fields)


class Rig:
    """An App with WeChat channels, its HTTP server, outbox senders and the fake API."""

    def __init__(self, app, api, session, base, clock) -> None:
        self.app, self.api, self.session, self.base, self.clock = app, api, session, base, clock

    def person(self, user: str, platform: str = "wechat_oa", aes: bool = True) -> WechatPerson:
        """Someone following the account (wechat_oa) or a member of the company (wecom)."""
        path = "/wechat/oa" if platform == "wechat_oa" else "/wechat/work"
        return WechatPerson(self.session, self.base + path, user, platform, aes=aes)

    async def sent_to(self, openid: str, count: int, wait_s: float = 5.0) -> list[dict]:
        """Wait until `count` customer-service messages reached openid; return them."""
        found: list[dict] = []
        for _ in range(int(wait_s * 50)):
            found = [c.body for c in self.api.to("message/custom/send") if c.body["touser"] == openid]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"only {len(found)} messages reached {openid}: {found}")

    async def settled(self, wait_s: float = 5.0) -> dict:
        """Wait until every callback is answered and its follow-ups queued, and the outbox has nothing
        due in flight or pending now; return the counts."""
        counts: dict = {}
        for _ in range(int(wait_s * 50)):
            counts = await self.app.store.outbox.counts()
            due = await self.app.db.fetchval(
                "SELECT COUNT(*) FROM outbox WHERE state = 'inflight' OR (state = 'pending' AND not_before <= ?)",
                (iso(self.clock.now()),),
            )
            open_callbacks = await self.app.db.fetchval(
                "SELECT COUNT(*) FROM inbox WHERE state IN ('received', 'handled')")
            if not due and not open_callbacks:
                return counts
            await asyncio.sleep(0.02)
        raise AssertionError(f"outbox not settled: {counts}")


@asynccontextmanager
async def wechat_rig(config, clock, api, starters, budget_ms: int = 1500, senders: bool = True,
                     oa_aes: bool = True):
    """Open an App with the WeChat channels enabled against the fake API and serve the real routes.

    oa_aes=False: the Official Account has no AES key (plaintext mode)."""
    config.channels.wechat_oa.enabled = True
    config.channels.wecom.enabled = True
    config.channels.wechat_oa.reply_budget_ms = budget_ms
    config.channels.wecom.reply_budget_ms = budget_ms
    config.secrets.update(wechat_secrets(api.base))
    if not oa_aes:
        del config.secrets["WUZHA_WECHAT_AES_KEY"]
    app = await App(config, clock=clock).open()
    served = await serve_http(app, starters)
    stop = asyncio.Event()
    running = asyncio.create_task(app.run_senders(stop)) if senders else None
    session = aiohttp.ClientSession()
    try:
        yield Rig(app, api, session, served.base, clock)
    finally:
        stop.set()
        if running is not None:
            await running
        await session.close()
        await served.stop()
        await app.close()
