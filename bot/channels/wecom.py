"""WeCom (企业微信) app: callbacks at /wechat/work, app messages batched up to 1,000 members per call."""

from __future__ import annotations

import html
import io
import logging

from aiohttp import web
from wechatpy.enterprise import parse_message
from wechatpy.enterprise.client import WeChatClient
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.replies import create_reply
from wechatpy.exceptions import InvalidSignatureException, WeChatClientException

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
    render_text,
    respond,
    safe_xml_fields,
    split_text,
    xml_text,
)
from bot.channels.wechat_guard import Freshness
from bot.directory import bind_directory_member, follow_contact_change
from bot.events import Incoming, Outgoing

log = logging.getLogger(__name__)

PLATFORM = "wecom"
PATH = "/wechat/work"
SECURITY = "@security"
DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"
HOME_URL = "https://work.weixin.qq.com/"
MAX_USERS = 1000              # touser "a|b|c" takes at most 1,000 members
PER_MEMBER_PER_MINUTE = 30    # WeCom silently drops what goes over this, so the outbox must never exceed it
BUSY = (45009, 45033)         # frequency or concurrency limit: try again later
ALL_INVALID = 81013           # none of the members exists or can see the app


class RoutedWecomClient(WeChatClient):
    """wechatpy's WeCom client with every URL, the token fetch included, on a chosen host."""

    def __init__(self, corp_id: str, secret: str, api_base: str, timeout: float = 10) -> None:
        super().__init__(corp_id, secret, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = api_root(api_base)

    def fetch_access_token(self):
        """Fetch a token from the configured host (wechatpy 1.8 hard-codes qyapi.weixin.qq.com)."""
        return self._fetch_access_token(url=self.API_BASE_URL + "gettoken",
                                        params={"corpid": self.corp_id, "corpsecret": self.secret})


CARD_TITLE_BYTES, CARD_TEXT_BYTES = 128, 512     # what a text card shows; a longer warning goes as text


def is_warning(message: Outgoing) -> bool:
    """Case warnings that fit a text card go out as one; everything else (answers, follow-ups) is text."""
    plain = not message.buttons and message.quiz is None and message.image is None and message.file is None
    if not (plain and message.ref.startswith("warning") and "\n" in message.text):
        return False
    title, _, description = message.text.partition("\n")
    return (len(title.encode("utf-8")) <= CARD_TITLE_BYTES
            and len(description.strip().encode("utf-8")) <= CARD_TEXT_BYTES)


def _cut_bytes(value: str, limit: int) -> str:
    data = value.encode("utf-8")
    if len(data) <= limit:
        return value
    return data[:limit - 3].decode("utf-8", "ignore") + "…"


class WecomChannel(Channel):
    """App messages to members; "@security" reaches every security officer with a WeCom account."""

    def __init__(self, app, client: WeChatClient, agent_id: str, concurrency: int = 8) -> None:
        super().__init__(name=PLATFORM, limits=Limits(
            concurrency=concurrency, batch=3000, recipients_per_call=MAX_USERS,
            per_address_per_minute=PER_MEMBER_PER_MINUTE,
        ))
        self.app = app
        self.client = client
        self.agent_id = agent_id
        self.api = ApiRunner(client, app.store, f"token:{PLATFORM}:{client.corp_id}", concurrency)
        self.hints = Hints(app, PLATFORM)
        self.card_url = app.config.channels.wecom.card_url or HOME_URL

    def batchable(self, address: str) -> bool:
        """Members share calls; the security alias does not."""
        return address != SECURITY

    async def security_members(self) -> list[str]:
        """WeCom user ids of the security staff (roster role or [roles] security)."""
        listed = self.app.config.roles.security
        ids = [int(v) for v in listed if v.isdigit()]
        return await self.app.store.wechat.user_keys_with_role(PLATFORM, "security", ids, list(listed))

    async def deliver(self, address: str, message: Outgoing) -> Delivery:
        """Send to one member, or to the security staff for "@security"."""
        if address == SECURITY:
            members = await self.security_members()
            if not members:
                return Delivery(ok=False, permanent=True, error="no security officer has a WeCom account")
            results = await self._send(members, message)
            # An officer who left the app does not fail the card; a failed call does.
            failed = [r for r in results.values() if not r.ok and not r.unreachable]
            return failed[0] if failed else Delivery(ok=True)
        return (await self._send([address], message))[address]

    async def deliver_many(self, addresses: list[str], message: Outgoing) -> dict[str, Delivery]:
        """One message to up to 1,000 members in one call per language (options need a hint line)."""
        return await self._send(addresses, message)

    async def _send(self, members: list[str], message: Outgoing) -> dict[str, Delivery]:
        if message.buttons or message.quiz is not None:
            by_lang: dict[str, list[str]] = {}
            for member in members:
                by_lang.setdefault(await self.hints.language(member), []).append(member)
        else:
            by_lang = {self.app.config.general.default_language: members}
        results: dict[str, Delivery] = {}
        for lang, group in by_lang.items():
            for start in range(0, len(group), MAX_USERS):
                results.update(await self._send_group(group[start:start + MAX_USERS], message, lang))
        return results

    async def _send_group(self, members: list[str], message: Outgoing, lang: str) -> dict[str, Delivery]:
        translate = self.app.services.translate
        try:
            if is_warning(message):
                answer = await self._text_card(members, message, lang)
            else:
                answer = {}
                body = render_text(message, translate("wechat.reply_number", lang),
                                   translate("wechat.reply_letter", lang))
                for piece in split_text(body) if body.strip() else []:
                    answer = await self.api.call(self.client.message.send_text, self.agent_id, members, piece)
                for data, kind in ((message.image, "image"), (message.file, "file")):
                    if data is not None:
                        answer = await self._send_media(members, data, kind, message.filename)
        except WeChatClientException as exc:
            failure = self._failure(exc)
            return dict.fromkeys(members, failure)
        invalid = set(filter(None, str(answer.get("invaliduser", "")).split("|")))
        results = {m: Delivery(ok=False, unreachable=True, error="not a member who can see the app")
                   if m in invalid else Delivery(ok=True) for m in members}
        for member in members:
            if member not in invalid:
                await self.hints.remember_choices(message, member)
        return results

    async def _text_card(self, members: list[str], message: Outgoing, lang: str) -> dict:
        title, _, description = message.text.partition("\n")
        # The card's description is HTML: what the warning quotes (a scammer's words, a link) stays text.
        return await self.api.call(
            self.client.message.send_text_card, self.agent_id, members,
            _cut_bytes(html.escape(title, quote=False), CARD_TITLE_BYTES),
            _cut_bytes(html.escape(description.strip(), quote=False), CARD_TEXT_BYTES), self.card_url,
            self.app.services.translate("wechat.card_button", lang),
        )

    async def _send_media(self, members: list[str], data: bytes, kind: str, filename: str) -> dict:
        handle = io.BytesIO(data)
        handle.name = filename or f"wuzha.{'png' if kind == 'image' else 'bin'}"
        uploaded = await self.api.call(self.client.media.upload, kind, handle)
        send = self.client.message.send_image if kind == "image" else self.client.message.send_file
        return await self.api.call(send, self.agent_id, members, uploaded["media_id"])

    def _failure(self, exc: WeChatClientException) -> Delivery:
        code = error_code(exc)
        if code in BUSY:
            return Delivery(ok=False, retry_after=60, error=f"{code} WeCom frequency limit")
        if code == ALL_INVALID:
            return Delivery(ok=False, unreachable=True, error=f"{code} not a member who can see the app")
        return Delivery(ok=False, error=f"{code} {getattr(exc, 'errmsg', exc)}"[:300])

    async def fetch_media(self, media_id: str) -> bytes:
        """Download a temporary media file a member sent."""
        response = await self.api.call(self.client.get, "media/get", params={"media_id": media_id})
        if isinstance(response, dict):
            raise WeChatClientException(response.get("errcode"), response.get("errmsg"))
        return response.content


class WecomCallback:
    """The HTTP side: URL verification and AES callbacks, passive replies encrypted back."""

    def __init__(self, app, channel: WecomChannel, token: str, aes_key: str, corp_id: str) -> None:
        self.app = app
        self.channel = channel
        self.crypto = WeChatCrypto(token, aes_key, corp_id)
        settings = app.config.channels.wecom
        self.freshness = Freshness(PLATFORM, settings.callback_window_s)
        self.passive = PassiveReplies(app, channel, settings.reply_budget_ms / 1000)
        self.interactions = Interactions(app, PLATFORM)

    async def verify(self, request: web.Request) -> web.Response:
        """GET: WeCom checks the URL with an encrypted echostr; answer it decrypted."""
        query = request.query
        try:
            self.freshness.check_time(query.get("timestamp", ""))
            echo = self.crypto.check_signature(query["msg_signature"], query["timestamp"], query["nonce"],
                                               query["echostr"])
        except Refused as exc:
            return refuse(request, exc.status, exc.reason)
        except (KeyError, InvalidSignatureException):
            return refuse(request, 403, "bad or missing msg_signature")
        except Exception as exc:     # signed, but the echostr is not ours
            return refuse(request, 400, f"cannot decrypt echostr ({type(exc).__name__})")
        return web.Response(text=echo if isinstance(echo, str) else echo.decode("utf-8"))

    async def receive(self, request: web.Request) -> web.Response:
        """POST: decrypt, dedupe, answer within the budget (encrypted) or 'success'."""
        query = request.query
        try:
            body = await read_body(request)
            if not all(k in query for k in ("msg_signature", "timestamp", "nonce")):
                raise Refused(403, "missing msg_signature")
            timestamp = self.freshness.check_time(query["timestamp"])
            envelope = safe_xml_fields(body)   # no DTD or entities; wechatpy takes the parsed fields as they are
            try:
                xml = self.crypto.decrypt_message(envelope, query["msg_signature"], query["timestamp"],
                                                  query["nonce"])
            except InvalidSignatureException as exc:
                raise Refused(403, "bad msg_signature") from exc
            except Exception as exc:   # signed, but the ciphertext is not ours (garbage, wrong corp id, padding)
                raise Refused(400, f"cannot decrypt ({type(exc).__name__})") from exc
            fields = safe_xml_fields(xml)
            message = parse_message(xml)
            if self.freshness.remember(query["msg_signature"], timestamp, body) == "retry":
                log.info("%s: repeat of an accepted callback answered without handling it", PLATFORM)
                return web.Response(text=SUCCESS)
        except Refused as exc:
            return refuse(request, exc.status, exc.reason)
        except Exception as exc:       # whatever a signed but broken document makes the parser raise
            return refuse(request, 400, f"not a WeCom message ({type(exc).__name__})")
        try:
            answer = await self._take_in(message, fields, xml)
        except StorageFailing:      # not stored: no 'success', so WeCom sends it again
            self.freshness.forget(query["msg_signature"])
            return web.Response(status=503, text="storage unavailable")
        if not answer.text:
            return await respond(request, web.Response(text=SUCCESS), answer)
        xml_reply = create_reply(xml_text(answer.text), message).render()
        encrypted = self.crypto.encrypt_message(xml_reply, query["nonce"], query["timestamp"])
        return await respond(request, web.Response(text=encrypted, content_type="application/xml"), answer)

    async def _take_in(self, message, fields: dict[str, str], xml: str) -> PassiveAnswer:
        """Follow a directory change, or take a message into the inbox and answer it within the budget."""
        if fields.get("Event") == "change_contact":
            async with self.passive.storing():
                await follow_contact_change(self.app, PLATFORM, fields)   # the directory changed: no one to answer
            return PassiveAnswer()
        incoming = incoming_from(message, PLATFORM)
        if incoming is None:
            return PassiveAnswer()
        async with self.passive.storing():
            await self.interactions.touch(incoming.user_key)
            await bind_directory_member(self.app, PLATFORM, incoming.user_key)   # the directory proves who it is
        return await self.passive.answer(incoming, message_key(fields), prepare=self._prepare, raw=xml)

    async def _prepare(self, incoming: Incoming) -> Incoming | list[Outgoing]:
        return await fetch_media_into(incoming, self.channel, self.app)


def build_channel(app) -> WecomChannel:
    """The WeCom channel from the configured secrets (also used by the security robot's mentions)."""
    secrets = app.config.secrets
    client = RoutedWecomClient(secrets["WUZHA_WECOM_CORPID"], secrets["WUZHA_WECOM_SECRET"],
                               secrets.get("WUZHA_WECOM_API_BASE", DEFAULT_API_BASE))
    return WecomChannel(app, client, secrets["WUZHA_WECOM_AGENTID"],
                        concurrency=app.config.channels.wecom.api_concurrency)


async def start(app, http: web.Application):
    """Starter for `wuzha serve`: the WeCom app channel and its callback route, when enabled."""
    if not app.config.channels.wecom.enabled:
        return None
    secrets = app.config.secrets
    channel = build_channel(app)
    await channel.api.load_token()
    callback = WecomCallback(app, channel, secrets["WUZHA_WECOM_TOKEN"], secrets["WUZHA_WECOM_AES_KEY"],
                             secrets["WUZHA_WECOM_CORPID"])
    http.router.add_get(PATH, callback.verify)
    http.router.add_post(PATH, callback.receive)
    app.add_channel(channel)
    await callback.passive.recover(parse_message)   # callbacks a crash left unanswered
    channel.recover_stale = callback.passive.stale_recovery(parse_message)   # the minute job's
    return Running(callback.passive)
