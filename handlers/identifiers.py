"""Find and normalise the other side's identifiers (phones, QQ/WeChat ids, cards, Alipay, e-mail, links) for matching."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

import phonenumbers

KINDS = ("phone", "bank", "qq", "wechat", "alipay", "email", "url", "account")
MAX_LENGTH = 200
MIN_DIGITS = 5
REGION = "CN"

# Link services whose path is the whole destination (case-sensitive) and platforms that host anyone's pages:
# for these only the exact link matches, never "the same site".
SHORTENERS = frozenset({
    "t.cn", "url.cn", "dwz.cn", "suo.im", "suo.gg", "mrw.so", "u.nu", "sohu.gg", "w.url.cn", "bit.ly", "tinyurl.com",
    "goo.gl", "t.co", "is.gd", "ow.ly", "rb.gy", "cutt.ly", "s.id", "t.ly", "v.gd", "tb.cn", "m.tb.cn", "dwz.mk",
    "c.tb.cn", "3.cn", "u.jd.com", "xhslink.com", "v.douyin.com", "b23.tv",
})
SHARED_HOSTS = frozenset({
    "qq.com", "weixin.qq.com", "mp.weixin.qq.com", "baidu.com", "taobao.com", "tmall.com", "jd.com", "alipay.com",
    "weibo.com", "douyin.com", "bilibili.com", "xiaohongshu.com", "github.io", "github.com", "google.com",
    "feishu.cn", "wjx.cn", "wjx.top", "jinshuju.net", "mikecrm.com", "gitee.io", "vercel.app", "netlify.app",
    "pages.dev", "blogspot.com", "wordpress.com", "sina.com.cn", "163.com", "126.com", "aliyuncs.com", "myqcloud.com",
})
# Second-level suffixes under which a registrable domain has three labels (pay.example.com.cn → example.com.cn).
_TWO_LABEL_SUFFIXES = frozenset({
    "com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn", "ac.cn", "co.uk", "org.uk", "ac.uk", "com.hk", "com.tw",
    "com.au", "co.jp", "co.kr", "com.sg", "com.my", "co.nz", "com.br", "co.in", "com.mo",
})

_HINT_WORDS = [
    (re.compile(r"(?:qq|扣扣|企鹅)(?:号码?|群|\s*(?:number|no\.?|id))?$", re.I), "qq"),
    (re.compile(r"(?:微信|威信|薇信|加\s*v|vx|v信|wx|wechat|weixin)(?:\s*(?:id|号|账号|number))?$", re.I), "wechat"),
    (re.compile(r"(?:支付宝|zfb|alipay)(?:\s*(?:账号|账户|account|id))?$", re.I), "alipay"),
    (re.compile(r"(?:银行卡|卡号|银行账号|账户号|收款账户|对公账户|卡|bank\s*card|bank\s*account|card|account\s*number)"
                r"(?:\s*(?:号码?|number|no\.?|#))?$", re.I), "bank"),
    (re.compile(r"(?:电话|手机|号码|座机|热线|客服电话|来电|打来|phone|tel|mobile|cell|number|call(?:ed)?(?:\s*me)?(?:\s*from)?)"
                r"(?:\s*(?:号码?|number|no\.?|#))?$", re.I), "phone"),
    (re.compile(r"(?:账号|账户|用户名|昵称|抖音号|tg|telegram|电报|account|user(?:name)?|handle|id)$", re.I), "account"),
]
# Words people put between the label and the identifier: "对方的QQ是", "his wechat is", "card no. ...".
_FILLER = re.compile(
    r"(?:\s|[:：=#]|是|为|就是|叫|号|号码|码|也是|还有|is|was|are|the|his|her|their|its|my|of|no\.?|number|id"
    r"|:|-|—|大概|好像|应该|是个|一个)*$", re.I)
_URL = re.compile(
    r"(?:https?://|www\.)[^\s\u3000-\u303f\u3400-\u9fff\uff00-\uffef<>\"'，。！？；、）)]+"
    r"|(?<![\w@.-])[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,12}"
    r"(?::\d{2,5})?(?:/[^\s\u3000-\u303f\u3400-\u9fff\uff00-\uffef<>\"'，。！？；、）)]*)?(?![\w@])", re.I)
_EMAIL = re.compile(r"(?<![\w.+-])[a-z0-9][\w.+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,12}(?![\w-])", re.I)
_WXID = re.compile(r"(?<![a-z0-9_-])wxid_[a-z0-9_-]{4,30}(?![a-z0-9_-])", re.I)
_WECHAT_ID = re.compile(r"[a-z][a-z0-9_-]{5,19}(?![a-z0-9_-])", re.I)
_HANDLE = re.compile(r"(?<![\w.])@([a-z][a-z0-9_]{3,31})(?![\w@.])", re.I)
_ACCOUNT_TOKEN = re.compile(r"@?([a-z0-9][a-z0-9_.-]{2,39})(?![\w.-])", re.I)
_DIGIT_RUN = re.compile(r"(?<![\d.,])(?:(?:\+|00)\s?|[(（]0\d{2,3}[)）]\s?)?\d(?:[ \-]?\d)*(?![\d])")
_MONEY_BEFORE = re.compile(r"(?:[¥￥$€£]|rmb|cny|usd|eur|hkd|gbp|jpy|人民币|美元|美金)\s*$", re.I)
_NOT_ID_AFTER = re.compile(
    r"^\s*(?:[.,]\d|元|块|圆|万|千|百|年|月|日|号(?!码)|点|分|秒|个|次|天|周|小时|岁|%|％|rmb|yuan|cny|usd|dollars?"
    r"|bucks|美元|美金|欧元|港币|k\b|w\b|min|mins|minutes?|hours?|hrs?|days?|am\b|pm\b|times?)", re.I)
# Numbers that are not the other side's: codes, order numbers, the victim's own ids.
_NOT_ID_BEFORE = re.compile(
    r"(?:学号|工号|警号|单号|订单号?|流水号|验证码|校验码|动态码|密码|身份证号?|准考证号?|code|order(?:\s*(?:no\.?|number|id))?|badge"
    r"|student\s*(?:id|no\.?|number)|passport)\W*$", re.I)
_LABEL_SCAN = 24
_WECHAT_NEAR = re.compile(r"微信|wechat|weixin|\bvx\b|\bwx\b", re.I)


@dataclass(frozen=True)
class Identifier:
    """One identifier as typed and in the form used for matching."""

    kind: str
    raw: str
    normalized: str


def luhn_ok(digits: str) -> bool:
    """True when a card number's check digit is right (a hint: some cards and most typos fail it)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def normalize_phone(text: str) -> str | None:
    """A phone number in its matching form ('+86 138-0013-8000' → '13800138000'), or None if it is not one."""
    raw = re.sub(r"[\s\-()（）.]", "", text)
    international = raw.startswith(("+", "00"))
    digits = raw.lstrip("+")
    if not digits.isdigit():
        return None
    if international:
        try:
            number = phonenumbers.parse("+" + digits.removeprefix("00") if digits.startswith("00") else "+" + digits)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(number):
            return None
        if number.country_code != 86:
            return f"+{number.country_code}{number.national_number}"
        digits = str(number.national_number)
        return digits if digits.startswith(("1", "400", "800", "95", "96")) else "0" + digits
    if re.fullmatch(r"861[3-9]\d{9}", digits):
        digits = digits[2:]       # +86 typed without the plus
    if re.fullmatch(r"1[3-9]\d{9}|(?:400|800)\d{7}", digits) or (
            digits.startswith("0") and 10 <= len(digits) <= 12):
        try:
            number = phonenumbers.parse(digits, REGION)
        except phonenumbers.NumberParseException:
            return None
        return digits if phonenumbers.is_valid_number(number) else None
    if re.fullmatch(r"9[56]\d{3,4}|12[0-9]{3}|10\d{3}", digits):
        return digits     # bank and carrier hotlines (95588, 96xxx, 12315, 10086): short numbers scammers imitate
    return None


def registrable_domain(host: str) -> str:
    """The part of a host name one owner registers: 'pay.jd-lipei.top' → 'jd-lipei.top'."""
    labels = host.lower().split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in _TWO_LABEL_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def site_of(normalized_url: str) -> str | None:
    """The site a stored link belongs to, for 'the same site' matching; None for short links and shared hosts."""
    host = normalized_url.split("/", 1)[0]
    if host in SHORTENERS or host in SHARED_HOSTS:
        return None
    domain = registrable_domain(host)
    return None if domain in SHARED_HOSTS or domain in SHORTENERS else domain


def normalize_url(text: str) -> str | None:
    """A link as host + path: scheme, 'www.', port, query, fragment and trailing '/' dropped; the path keeps its case."""
    candidate = text.strip().rstrip(".,;:!?")
    if not re.match(r"^[a-z][a-z0-9+.-]*://", candidate, re.I):
        candidate = "http://" + candidate
    try:
        parts = urlsplit(candidate)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if not host or "." not in host or not re.fullmatch(r"[a-z0-9.-]+", host) or host.replace(".", "").isdigit():
        return None
    host = host.removeprefix("www.")
    return host + parts.path.rstrip("/")


def normalize_identifier(text: str) -> Identifier | None:
    """One identifier as typed on its own (e.g. for /check), normalised; None if it is not one."""
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if not 3 <= len(raw) <= MAX_LENGTH:
        return None
    found = extract_identifiers(raw)
    if found:
        return found[0]
    body = re.sub(r"\s+", "", raw).lstrip("@")
    if _ACCOUNT_TOKEN.fullmatch(body) and not body.isdigit():
        return Identifier("account", raw, body.lower())
    digits = re.sub(r"[\s\-]", "", raw)
    if digits.isdigit() and len(digits) >= MIN_DIGITS:
        return Identifier("account", raw, digits)
    return None


def extract_identifiers(text: str) -> list[Identifier]:
    """Every identifier in a message, in the order typed; the words around them are never kept."""
    source = unicodedata.normalize("NFKC", text or "")
    found: list[tuple[int, Identifier]] = []
    taken = [False] * len(source)

    def claim(start: int, end: int, item: Identifier | None) -> None:
        if item is None or any(taken[start:end]):
            return
        for i in range(start, end):
            taken[i] = True
        found.append((start, item))

    for match in _EMAIL.finditer(source):
        label = _label_before(source, match.start())
        kind = "alipay" if label == "alipay" else "email"
        claim(match.start(), match.end(), Identifier(kind, match.group(0), match.group(0).lower()))
    for match in _WXID.finditer(source):
        claim(match.start(), match.end(), Identifier("wechat", match.group(0), match.group(0).lower()))
    for match in _URL.finditer(source):
        if any(taken[match.start():match.end()]) or not _looks_like_link(match.group(0)):
            continue
        url = normalize_url(match.group(0))
        if url:
            claim(match.start(), match.end(), Identifier("url", match.group(0).rstrip(".,;:!?"), url))
    for match in _DIGIT_RUN.finditer(source):
        if any(taken[match.start():match.end()]):
            continue
        for start, end, item in _digit_identifiers(source, match.start(), match.end()):
            claim(start, end, item)
    for match in _HANDLE.finditer(source):
        claim(match.start(), match.end(), Identifier("account", match.group(0), match.group(1).lower()))
    for label_end, kind in _labels(source):
        start = _skip_filler(source, label_end)
        if start >= len(source) or taken[start]:
            continue
        if kind == "wechat":
            match = _WECHAT_ID.match(source, start)
            if match and not _is_word(match.group(0)):
                claim(start, match.end(), Identifier("wechat", match.group(0), match.group(0).lower()))
        elif kind in ("account", "alipay", "qq"):
            match = _ACCOUNT_TOKEN.match(source, start)
            if match and not _is_word(match.group(1)) and re.search(r"\d|_", match.group(1)):
                if kind == "account" and _WECHAT_NEAR.search(source[max(0, start - 30):start]):
                    kind = "wechat"       # "on wechat, his id is dorm_rent2026"
                if kind == "qq" and not re.fullmatch(r"[1-9]\d{4,10}", match.group(1)):
                    kind = "account"      # QQ mail or an id that is no QQ number: still the other side's
                claim(start, match.end(), Identifier(kind, match.group(0), match.group(1).lower()))
    found.sort(key=lambda pair: pair[0])
    unique: dict[str, Identifier] = {}
    for _, item in found:
        unique.setdefault(item.normalized, item)
    return list(unique.values())


def _digit_identifiers(source: str, start: int, end: int) -> list[tuple[int, int, Identifier]]:
    """The identifiers in one run of digits (with spaces or dashes): one number, or several typed side by side."""
    run = source[start:end]
    whole = _classify_run(source, start, end)
    if whole is not None:
        return [(start, end, whole)]
    out = []
    for piece in re.finditer(r"\S+", run):
        item = _classify_run(source, start + piece.start(), start + piece.end())
        if item is not None:
            out.append((start + piece.start(), start + piece.end(), item))
    return out


def _classify_run(source: str, start: int, end: int) -> Identifier | None:
    """What a number typed at source[start:end] is, from its label, its shape and what stands around it."""
    raw = source[start:end].strip()
    digits = re.sub(r"[\s\-+()（）]", "", raw)
    if len(digits) < MIN_DIGITS or _MONEY_BEFORE.search(source[max(0, start - 6):start]) \
            or _NOT_ID_AFTER.match(source[end:end + 10]):
        return None
    if _NOT_ID_BEFORE.search(source[max(0, start - 12):start]):
        return None
    label = _label_before(source, start)
    phone = normalize_phone(raw)
    if label == "qq" and 5 <= len(digits) <= 11 and not digits.startswith("0"):
        return Identifier("qq", raw, digits)
    if label == "bank" and 12 <= len(digits) <= 19:
        return Identifier("bank", raw, digits)
    if label in ("alipay", "wechat") and phone:
        return Identifier(label, raw, phone)
    if phone:
        return Identifier("phone", raw, phone)
    if 16 <= len(digits) <= 19 and (luhn_ok(digits) or re.fullmatch(r"(?:62|4|5|3)\d+", digits)):
        return Identifier("bank", raw, digits)
    if " " in raw or "-" in raw:
        return None       # separated groups that are neither a phone nor a card: several numbers, split by the caller
    if label == "account":
        return Identifier("account", raw, digits)
    if label == "phone" and 7 <= len(digits) <= 8:
        return Identifier("phone", raw, digits)     # a local number typed without its area code
    if label is None and 5 <= len(digits) <= 11 and not digits.startswith("0"):
        return Identifier("qq", raw, digits)
    return None


def _labels(source: str):
    """(end, kind) of every label in the text: '微信号', 'QQ', 'his wechat', '账号'."""
    for pattern, kind in _HINT_WORDS:
        for match in re.finditer(pattern.pattern.removesuffix("$"), source, re.I):
            before = source[match.start() - 1] if match.start() else " "
            if before.isascii() and before.isalnum() and match.group(0)[0].isascii():
                continue          # inside a word ("ballot" is no "tg")
            yield match.end(), kind


def _label_before(source: str, start: int) -> str | None:
    """The label written just before position start ('他的QQ是 123456' → 'qq'), if any."""
    window = source[max(0, start - _LABEL_SCAN):start]
    for prefix in (window.rstrip(" :：=#"), window[:len(window) - len(_FILLER.search(window).group(0))]):
        for pattern, kind in _HINT_WORDS:
            match = pattern.search(prefix)
            if match and not (match.start() and prefix[match.start() - 1].isascii()
                              and prefix[match.start() - 1].isalnum() and match.group(0)[0].isascii()):
                return kind
    return None


def _skip_filler(source: str, pos: int) -> int:
    """The position after the words between a label and its identifier."""
    match = re.compile(r"(?:\s|[:：=#]|是|为|就是|叫|号码|号|码|is|was|the|of|no\.|id\b|number\b)*", re.I).match(source, pos)
    return match.end()


def _is_word(token: str) -> bool:
    """True for an ordinary English word that a label may be followed by ('also', 'again', 'please')."""
    return token.isalpha() and token.lower() == token and len(token) <= 10 and not re.search(r"\d|_", token)


def _looks_like_link(token: str) -> bool:
    """True unless a dotted word is only an abbreviation or file name ('e.g.', 'no.1', 'a.m.', 'photo.jpg')."""
    if re.match(r"(?:https?://|www\.)", token, re.I):
        return True
    host = token.split("/", 1)[0].lower()
    tld = host.rsplit(".", 1)[-1]
    return tld not in {"jpg", "jpeg", "png", "gif", "pdf", "doc", "docx", "xls", "xlsx", "txt", "apk", "zip", "mp4",
                       "mp3", "exe", "rar", "m", "e", "g"}
