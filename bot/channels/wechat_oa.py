"""The WeChat Official Account (公众号): callbacks at /wechat/oa, customer-service and template messages."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

from aiohttp import web
from wechatpy import parse_message
from wechatpy.client import WeChatClient
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException, WeChatClientException
from wechatpy.replies import create_reply
from wechatpy.utils import check_signature

from bot.channels.base import Channel, Delivery, Limits
from bot.channels.wechat_common import (
    SUCCESS,
    ApiRunner,
    Hints,
    Interactions,
    PassiveAnswer,
    PassiveReplies,
    Refused,
    Running,
    StorageFailing,
    api_root,
    error_code,
    fetch_media_into,
    incoming_from,
    message_key,
    read_body,
    refuse,
    respond,
    safe_xml_fields,
    xml_text,
)
from bot.channels.wechat_guard import Freshness
from bot.events import Incoming, Kind, Outgoing

log = logging.getLogger(__name__)

PLATFORM = "wechat_oa"
PATH = "/wechat/oa"
DEFAULT_API_BASE = "https://api.weixin.qq.com"
WINDOW = timedelta(hours=48)
OUT_OF_TIME = 45015          # customer-service message more than 48 h after the person's last interaction
OUT_OF_COUNT = 45047         # too many customer-service messages since the person's last interaction
QUOTA = 45009                # the account's daily API quota is used up (resets at midnight)
GONE = (43004, 40003)        # unfollowed, or not an OpenID of this account


class RoutedOAClient(WeChatClient):
    """wechatpy's Official Account client with every URL, the token fetch included, on a chosen host."""

    def __init__(self, appid: str, secret: str, api_base: str, timeout: float = 10) -> None:
        super().__init__(appid, secret, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = api_root(api_base)

    def fetch_access_token(self):
        """Fetch a token from the configured host (wechatpy 1.8 hard-codes api.weixin.qq.com)."""
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


def seconds_to_quota_reset(now, tz) -> float:
    """Until the next local midnight, when the daily quota resets; at most an hour, so we look again."""
    local = now.astimezone(tz)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return min(3600.0, max(60.0, (midnight - local).total_seconds()))


class WechatOAChannel(Channel):
    """Sends customer-service messages inside the 48 h window, the template message outside it."""

    def __init__(self, app, client: WeChatClient, concurrency: int = 8) -> None:
        super().__init__(name=PLATFORM, limits=Limits(concurrency=concurrency, batch=200))
        self.app = app
        self.client = client
        self.api = ApiRunner(client, app.store, f"token:{PLATFORM}:{client.appid}", concurrency)
        self.hints = Hints(app, PLATFORM)
        self.template_id = app.config.channels.wechat_oa.template_id

    async def deliver(self, address: str, message: Outgoing) -> Delivery:
        """Send one message to an OpenID, honouring the 48 h customer-service window."""
        last = await self.app.store.wechat.last_interaction(PLATFORM, address)
        if last is None or self.app.clock.now() - last > WINDOW:
            return await self._outside_window(address, message, "outside 48h window")
        for part in await self.hints.parts(message, address):
            try:
                await self._send_part(address, part)
            except WeChatClientException as exc:
                code = error_code(exc)
                if code == OUT_OF_TIME:
                    return await self._outside_window(address, message, "outside 48h window")
                if code == OUT_OF_COUNT:
                    return await self._outside_window(address, message, "customer-service message limit reached")
                return self._failure(exc)
        await self.hints.remember_choices(message, address)
        return Delivery(ok=True)

    async def _send_part(self, openid: str, part) -> None:
        if part.kind == "image":
            uploaded = await self.api.call(self.client.media.upload, "image", _named(part.data, part.filename))
            await self.api.call(self.client.message.send_image, openid, uploaded["media_id"])
        elif part.kind == "file":   # customer-service messages cannot carry files
            lang = await self.hints.language(openid)
            note = self.app.services.translate("wechat.file_elsewhere", lang, name=part.filename)
            await self.api.call(self.client.message.send_text, openid, note)
        else:
            await self.api.call(self.client.message.send_text, openid, part.text)

    async def _outside_window(self, openid: str, message: Outgoing, reason: str) -> Delivery:
        """The configured template message if there is one; otherwise undeliverable, with the reason."""
        if not self.template_id:
            return Delivery(ok=False, permanent=True, error=reason)
        parts = [p for p in await self.hints.parts(message, openid) if p.kind == "text"]
        body = "\n".join(p.text for p in parts)
        first, _, rest = body.partition("\n")
        lang = await self.hints.language(openid)
        data = {
            "first": {"value": first[:100]},
            "keyword1": {"value": (rest.strip() or first)[:180]},
            "remark": {"value": self.app.services.translate("wechat.template_remark", lang)},
        }
        try:
            await self.api.call(self.client.message.send_template, openid, self.template_id, data)
        except WeChatClientException as exc:
            return self._failure(exc)
        return Delivery(ok=True)

    def _failure(self, exc: WeChatClientException) -> Delivery:
        code = error_code(exc)
        if code == QUOTA:
            return Delivery(ok=False, retry_after=seconds_to_quota_reset(self.app.clock.now(), self.app.config.tz),
                            error="45009 daily API quota used up")
        if code in GONE:
            return Delivery(ok=False, unreachable=True, error=f"{code} not following the account")
        return Delivery(ok=False, error=f"{code} {getattr(exc, 'errmsg', exc)}"[:300])

    async def fetch_media(self, media_id: str) -> bytes:
        """Download a temporary media file (a picture or voice the person sent)."""
        response = await self.api.call(self.client.get, "media/get", params={"media_id": media_id})
        if isinstance(response, dict):
            raise WeChatClientException(response.get("errcode"), response.get("errmsg"))
        return response.content


def _named(data: bytes, filename: str) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = filename
    return handle


class OACallback:
    """The HTTP side: URL verification, signed (and in safe mode AES) callbacks, passive replies."""

    def __init__(self, app, channel: WechatOAChannel, token: str, aes_key: str | None, appid: str) -> None:
        self.app = app
        self.channel = channel
        self.token = token
        settings = app.config.channels.wechat_oa
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None
        self.plaintext_ok = self.crypto is None or settings.accept_plaintext
        self.freshness = Freshness(PLATFORM, settings.callback_window_s)
        self.passive = PassiveReplies(app, channel, settings.reply_budget_ms / 1000)
        self.interactions = Interactions(app, PLATFORM)

    def _check_signature(self, request: web.Request) -> None:
        query = request.query
        try:
            check_signature(self.token, query["signature"], query["timestamp"], query["nonce"])
        except (KeyError, InvalidSignatureException) as exc:
            raise Refused(403, "bad or missing signature") from exc

    async def verify(self, request: web.Request) -> web.Response:
        """GET: WeChat checks the URL; echo echostr when the signature is ours and fresh."""
        try:
            self._check_signature(request)
            self.freshness.check_time(request.query["timestamp"])
        except Refused as exc:
            return refuse(request, exc.status, exc.reason)
        return web.Response(text=request.query.get("echostr", ""))

    async def receive(self, request: web.Request) -> web.Response:
        """POST: one message or event; the answer is the passive reply or 'success'."""
        query = request.query
        try:
            body = await read_body(request)
            self._check_signature(request)
            timestamp = self.freshness.check_time(query["timestamp"])
            encrypted = query.get("encrypt_type") == "aes"
            if not encrypted and not self.plaintext_ok:
                raise Refused(403, "unencrypted callback in safe mode")
            envelope = safe_xml_fields(body)
            xml = self._decrypt(request, envelope) if encrypted else body
            fields = safe_xml_fields(xml) if encrypted else envelope
            message = parse_message(xml)
            signature = query["msg_signature"] if encrypted else query["signature"]
            if self.freshness.remember(signature, timestamp, body) == "retry":
                log.info("%s: repeat of an accepted callback answered without handling it", PLATFORM)
                return web.Response(text=SUCCESS)
        except Refused as exc:
            return refuse(request, exc.status, exc.reason)
        except Exception as exc:     # whatever a signed but broken document makes the parser raise
            return refuse(request, 400, f"not a WeChat message ({type(exc).__name__})")
        try:
            answer = await self.handle(message, fields, xml)
        except StorageFailing:      # not stored: no 'success', so WeChat sends it again
            self.freshness.forget(signature)
            return web.Response(status=503, text="storage unavailable")
        if not answer.text:
            return await respond(request, web.Response(text=SUCCESS), answer)
        xml_reply = create_reply(xml_text(answer.text), message).render()
        if encrypted:
            xml_reply = self.crypto.encrypt_message(xml_reply, query["nonce"], query["timestamp"])
        return await respond(request, web.Response(text=xml_reply, content_type="application/xml"), answer)

    def _decrypt(self, request: web.Request, envelope: dict[str, str]) -> str:
        # The envelope is already parsed (safely): wechatpy takes it as a dict instead of parsing it again.
        if self.crypto is None:
            raise Refused(400, "encrypted message but no WUZHA_WECHAT_AES_KEY")
        query = request.query
        try:
            return self.crypto.decrypt_message(envelope, query["msg_signature"], query["timestamp"], query["nonce"])
        except (KeyError, InvalidSignatureException) as exc:
            raise Refused(403, "bad or missing msg_signature") from exc
        except Exception as exc:     # signed, but the ciphertext is not ours (garbage, wrong app id, bad padding)
            raise Refused(400, f"cannot decrypt ({type(exc).__name__})") from exc

    async def handle(self, message, fields: dict[str, str], xml: str | bytes = "") -> PassiveAnswer:
        """Take it into the inbox, note the interaction, dispatch within the budget; the passive reply."""
        incoming = incoming_from(message, PLATFORM)
        if incoming is None:
            return PassiveAnswer()
        if incoming.kind != Kind.LEAVE:
            async with self.passive.storing():
                await self.interactions.touch(incoming.user_key)
        raw = xml.decode("utf-8") if isinstance(xml, bytes) else xml
        return await self.passive.answer(incoming, message_key(fields), prepare=self._prepare, raw=raw)

    async def _prepare(self, incoming: Incoming) -> Incoming | list[Outgoing]:
        return await fetch_media_into(incoming, self.channel, self.app)


async def start(app, http: web.Application):
    """Starter for `wuzha serve`: the Official Account channel and its callback route, when enabled."""
    settings = app.config.channels.wechat_oa
    if not settings.enabled:
        return None
    secrets = app.config.secrets
    api_base = secrets.get("WUZHA_WECHAT_API_BASE", DEFAULT_API_BASE)
    client = RoutedOAClient(secrets["WUZHA_WECHAT_APPID"], secrets["WUZHA_WECHAT_SECRET"], api_base)
    channel = WechatOAChannel(app, client, concurrency=settings.api_concurrency)
    await channel.api.load_token()
    callback = OACallback(app, channel, secrets["WUZHA_WECHAT_TOKEN"], secrets.get("WUZHA_WECHAT_AES_KEY"),
                          secrets["WUZHA_WECHAT_APPID"])
    http.router.add_get(PATH, callback.verify)
    http.router.add_post(PATH, callback.receive)
    app.add_channel(channel)
    await callback.passive.recover(parse_message)   # callbacks a crash left unanswered
    channel.recover_stale = callback.passive.stale_recovery(parse_message)   # the minute job's
    return Running(callback.passive)
