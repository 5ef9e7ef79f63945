"""Normalise the other side's identifiers (phones, accounts, QQ/WeChat ids, bank cards, links) for matching."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

KINDS = ("phone", "bank", "qq", "wechat", "alipay", "email", "url", "account")
MAX_LENGTH = 200
# A label people put in front: "QQ：12345", "微信号 abc", "卡号 6222...".
_HINTS = [
    (re.compile(r"^(?:qq号?|扣扣)\s*[:：]?\s*", re.I), "qq"),
    (re.compile(r"^(?:微信号?|wechat(?:\s*id)?|weixin|wx|vx)\s*[:：]?\s*", re.I), "wechat"),
    (re.compile(r"^(?:支付宝(?:账号)?|alipay)\s*[:：]?\s*", re.I), "alipay"),
    (re.compile(r"^(?:银行卡号?|卡号|银行账号|bank(?:\s*card)?|card)\s*[:：]?\s*", re.I), "bank"),
    (re.compile(r"^(?:账号|账户|用户名|account|user(?:name)?|id)\s*[:：]?\s*", re.I), "account"),
    (re.compile(r"^(?:电话|手机号?|号码|tel|phone|mobile)\s*[:：]?\s*", re.I), "phone"),
    (re.compile(r"^(?:tg|telegram|电报)\s*[:：]?\s*", re.I), "account"),
    (re.compile(r"^(?:网址|链接|网站|link|url|site)\s*[:：]?\s*", re.I), "url"),
]
_URL = re.compile(r"(?:https?://|www\.)\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:/\S*)?", re.I)
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$")
_PHONE_CHARS = re.compile(r"[\s\-()（）.]")
_SPLIT = re.compile(r"[\n,，;；、|]+|\s+/\s+|\s+(?:和|及|以及|and)\s+")
_HINT_WORDS = [(("qq", "扣扣"), "qq"), (("微信", "wechat", "wx", "vx"), "wechat"), (("支付宝", "alipay"), "alipay"),
               (("卡", "bank", "card"), "bank"), (("电话", "手机", "phone", "tel", "号码"), "phone")]
_CJK = re.compile(r"[\u3400-\u9fff]")
_DIGIT_RUN = re.compile(r"(?<![\w.@/])(?:\+|00)?\d[\d \-()（）]{3,}\d(?![\w.@/])")
MIN_DIGITS = 5


@dataclass(frozen=True)
class Identifier:
    """One identifier as typed and in the form used for matching."""

    kind: str
    raw: str
    normalized: str


def normalize_phone(text: str) -> str | None:
    """'+86 138-0013-8000' → '13800138000'; None if it is not a run of digits."""
    digits = _PHONE_CHARS.sub("", text)
    if digits.startswith("+"):
        digits = digits[1:]
    if not digits.isdigit():
        return None
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13 and digits[2] == "1":
        digits = digits[2:]
    return digits


def normalize_url(text: str) -> str | None:
    """A link reduced to host + path: scheme, 'www.', port, query, fragment and trailing '/' dropped."""
    candidate = text.strip()
    if not re.match(r"^[a-z][a-z0-9+.-]*://", candidate, re.I):
        candidate = "http://" + candidate
    try:
        parts = urlsplit(candidate)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if not host or "." not in host:
        return None
    host = host.removeprefix("www.")
    path = parts.path.rstrip("/").lower()   # matching, not fetching: case differences are the same link
    return host + path


def classify_digits(digits: str, hint: str | None) -> str:
    """The kind of an all-digit identifier: a hint wins, else guessed from its length and shape."""
    if hint in ("qq", "bank", "phone", "wechat", "alipay", "account"):
        return hint
    if re.fullmatch(r"1[3-9]\d{9}", digits) or re.fullmatch(r"0\d{9,11}", digits) or re.fullmatch(
            r"(?:400|800)\d{7}|95\d{3,6}|1\d{4}", digits):
        return "phone"
    if 15 <= len(digits) <= 19:
        return "bank"
    if 5 <= len(digits) <= 11:
        return "qq"
    return "account"


def normalize_identifier(text: str) -> Identifier | None:
    """One identifier, normalised; None for text too short or too long to be one."""
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if not 3 <= len(raw) <= MAX_LENGTH:
        return None
    hint, body = _strip_hint(raw)
    if not body:
        return None
    digits = normalize_phone(body)
    if digits is not None:
        if len(digits) < MIN_DIGITS:
            return None
        return Identifier(classify_digits(digits, hint), raw, digits)
    if _EMAIL.match(body):
        return Identifier(hint if hint == "alipay" else "email", raw, body.lower())
    if (hint == "url" or (hint is None and _URL.fullmatch(body))) and not re.search(r"\s", body):
        url = normalize_url(body)
        if url:
            return Identifier("url", raw, url)
    compact = re.sub(r"\s+", "", body).lstrip("@").lower()
    if len(compact) < 3:
        return None
    return Identifier(hint if hint in ("qq", "wechat", "alipay") else "account", raw, compact)


def extract_identifiers(text: str) -> list[Identifier]:
    """Every identifier in a message: several may be given, one a line or separated by commas or spaces."""
    found: list[Identifier] = []
    for chunk in _SPLIT.split(unicodedata.normalize("NFKC", text or "")):
        found += _chunk_identifiers(chunk.strip())
    unique: dict[str, Identifier] = {}
    for item in found:
        unique.setdefault(item.normalized, item)
    return list(unique.values())


def _chunk_identifiers(chunk: str) -> list[Identifier]:
    """Identifiers in one comma-free piece: a single one (spaces allowed in numbers) or several words."""
    if not chunk:
        return []
    whole = normalize_identifier(chunk)
    if whole is not None and (not re.search(r"\s", _strip_hint(chunk)[1]) or whole.kind in ("phone", "bank")):
        return [whole]
    found = []
    rest = chunk
    for match in _DIGIT_RUN.finditer(chunk):
        hint = _hint_before(chunk[:match.start()])
        digits = normalize_phone(match.group(0))
        if digits and len(digits) >= MIN_DIGITS:
            found.append(Identifier(classify_digits(digits, hint), match.group(0).strip(), digits))
            rest = rest.replace(match.group(0), " ", 1)
    hint = None
    for word in rest.split():
        word_hint, body = _strip_hint(word)
        if not body:
            hint = word_hint
            continue
        item = normalize_identifier(body) if not _CJK.search(body) else None
        if item is not None:
            kind = hint or word_hint
            if kind in ("qq", "wechat", "alipay") and item.kind in ("account", "qq"):
                item = Identifier(kind, word, item.normalized)
            found.append(item)
        hint = None
    return found


def _strip_hint(text: str) -> tuple[str | None, str]:
    """Split a leading label off: ('qq', '12345') for 'QQ:12345'; (None, text) without one."""
    for pattern, kind in _HINTS:
        stripped = pattern.sub("", text, count=1)
        if stripped != text:
            return kind, stripped.strip()
    return None, text.strip()


def _hint_before(prefix: str) -> str | None:
    """The label written just before a number ('他的QQ是 123456' → 'qq'), if any."""
    words = prefix.lower().split()
    if not words:
        return None
    last = words[-1]
    return next((kind for keys, kind in _HINT_WORDS if any(k in last for k in keys)), None)
