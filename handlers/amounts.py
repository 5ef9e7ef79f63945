"""Read an amount of money as people type it: "3000", "3,000元", "三千", "3k", "5万", "一万二", "2000 and 1500", "USD 500"."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MAX_YUAN = 1_000_000_000         # anything above is a typo, not a loss
DIGITS = {"零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "俩": 2, "三": 3, "叁": 3, "四": 4,
          "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9}
SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS = {"亿": 100_000_000, "万": 10_000}
ZERO_WORDS = {"0", "零", "无", "没有", "没", "没损失", "没有损失", "none", "nothing", "no", "nil", "zero", "n/a"}
FOREIGN = re.compile(r"[$€£]|usd|dollars?|euros?|美元|美金|欧元|英镑|港币|日元")
_PREFIX = re.compile(r"^(?:大约|大概|约|差不多|将近|一共|总共|共计|总计|合计|共|人民币|损失了?|被骗了?|先|后来|然后|又|再|第[一二三四五]次|"
                     r"转账|转了?|付了?|给了?|打了?|about|around|approx\.?|roughly|"
                     r"(?:(?:i|we)\s+)?(?:have\s+|'ve\s+)?(?:lost|paid|sent|transferred|gave)\b|"
                     r"~|≈|rmb|cny|¥|￥)+")
_SUFFIX = re.compile(r"(?:人民币|块钱|块|元整|元|圆|整|左右|多|yuan|rmb|cny|kuai|rmb)+$")
_THOUSANDS = re.compile(r"(?<![\d,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])")
_SEPARATORS = re.compile(r"[\s,，、/;；+]|和|加|及|再|又|and|plus|then")
# Words that give a range or a choice ("3000-4000", "三千或者四千"): not a sum, so the reporter is asked for one.
_ALTERNATIVES = re.compile(r"或者|还是|或|到|至|~|-|\bor\b|\bto\b")
_UNIT_WORDS = (("thousand", "千"), ("million", "百万"), ("hundred", "百"), ("wan", "万"), ("k", "千"),
               ("w", "万"), ("m", "百万"))
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[零〇一壹二贰两俩三叁四肆五伍六陆七柒八捌九玖]|[十拾百佰千仟万亿]")


# Currency words → ISO code; a rate table from config ([currency] rates) converts them to yuan.
CURRENCIES = (("us$", "USD"), ("hk$", "HKD"), ("$", "USD"), ("€", "EUR"), ("£", "GBP"), ("usd", "USD"),
              ("dollars", "USD"), ("dollar", "USD"), ("美元", "USD"), ("美金", "USD"), ("eur", "EUR"), ("euros", "EUR"),
              ("euro", "EUR"), ("欧元", "EUR"), ("gbp", "GBP"), ("pounds", "GBP"), ("英镑", "GBP"), ("hkd", "HKD"),
              ("港币", "HKD"), ("港元", "HKD"), ("jpy", "JPY"), ("yen", "JPY"), ("日元", "JPY"), ("円", "JPY"))


@dataclass(frozen=True)
class AmountResult:
    """A parsed amount in whole yuan (several added up, a foreign one converted), or why it could not be read."""

    yuan: int | None
    problem: str | None = None     # unreadable, negative, foreign (no rate for it), too_large
    parts: tuple[int, ...] = ()    # the amounts typed, when several were added up (in the currency typed)
    currency: str = "CNY"
    original: Decimal | None = None    # the amount in its own currency, when not yuan

    @property
    def ok(self) -> bool:
        """Whether an amount was read."""
        return self.yuan is not None

    @property
    def several(self) -> bool:
        """Several amounts were added up (the reporter should confirm the total)."""
        return len(self.parts) > 1


def parse_amount(text: str, rates: dict[str, Decimal] | None = None) -> AmountResult:
    """Parse an amount ("3,000元", "一万二", "2000 and 1500", "USD 500"); a problem code when it is not one."""
    raw = unicodedata.normalize("NFKC", text or "").strip().lower()
    if not raw:
        return AmountResult(None, "unreadable")
    if raw in ZERO_WORDS:
        return AmountResult(0)
    currency = next((code for word, code in CURRENCIES if word in raw), None)
    if currency is None and FOREIGN.search(raw):
        return AmountResult(None, "foreign")
    if currency is not None:
        rate = (rates or {}).get(currency)
        if rate is None:
            return AmountResult(None, "foreign")
        for word, code in CURRENCIES:
            if code == currency:
                raw = raw.replace(word, " ")
        local = parse_amount(raw.strip())
        if not local.ok:
            return local
        original = Decimal(sum(local.parts) if local.parts else local.yuan)
        yuan = int((original * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        if yuan > MAX_YUAN:
            return AmountResult(None, "too_large")
        return AmountResult(yuan, parts=local.parts, currency=currency, original=original)
    if raw.startswith(("-", "负")):
        return AmountResult(None, "negative")
    raw = re.sub(r"^(?:(?:i\s+)?paid\s+(?:twice|three times|several times)|转了?[两三几]次|分[两三几]次转了?)\s*[,，:：]?\s*",
                 "", raw)
    body = _THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), raw)
    body = _strip_words(body)
    if not body:
        return AmountResult(None, "unreadable")
    for word, unit in _UNIT_WORDS:
        body = re.sub(rf"(?<=[\d.\s]){word}\b" if len(word) > 1 else rf"(?<=[\d.\s]){word}(?![a-z])", unit, body)
    body = re.sub(r"(?<=[\d.])\s+(?=[十拾百佰千仟万亿])", "", body)
    if _ALTERNATIVES.search(body):
        pieces = [p for p in _SEPARATORS.split(_ALTERNATIVES.sub(" ", body)) if p]
        readable = len(pieces) > 1 and all(parse_number(_strip_words(p)) is not None for p in pieces)
        return AmountResult(None, "several" if readable else "unreadable")
    parts = [p for p in _SEPARATORS.split(body) if p]
    if len(parts) > 1:
        values = [parse_number(_strip_words(p)) for p in parts]
        if any(v is None for v in values):
            return AmountResult(None, "unreadable")
        whole = [int(v.quantize(Decimal(1), rounding=ROUND_HALF_UP)) for v in values]
        if sum(whole) > MAX_YUAN:
            return AmountResult(None, "too_large")
        return AmountResult(sum(whole), parts=tuple(whole))
    value = parse_number(parts[0]) if parts else None
    if value is None:
        return AmountResult(None, "unreadable")
    yuan = int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if yuan > MAX_YUAN:
        return AmountResult(None, "too_large")
    return AmountResult(yuan)


def _strip_words(body: str) -> str:
    """Drop 'about', '¥', '元', '左右' and the like around the number."""
    previous = None
    while previous != body:
        previous = body
        body = _PREFIX.sub("", body).strip()
        body = _SUFFIX.sub("", body).strip()
    return body


def parse_number(body: str) -> Decimal | None:
    """A number written with digits, Chinese numerals and units (万, 千, ...), or None."""
    tokens = _TOKEN.findall(body)
    if not tokens or "".join(tokens) != body:
        return None
    total, section = Decimal(0), []
    last_big = None
    for token in tokens:
        if token in BIG_UNITS:
            unit = BIG_UNITS[token]
            if last_big is not None and unit >= last_big:
                return None
            value = _parse_section(section, None) if section else None
            if value is None:
                return None
            total += value * unit
            last_big, section = unit, []
        else:
            section.append(token)
    if section:
        # "一万二": a bare digit after a big unit is the next unit down (2 thousand).
        elided = last_big // 10 if last_big else None
        value = _parse_section(section, elided)
        if value is None:
            return None
        total += value
    return total


def _parse_section(tokens: list[str], elided_unit: int | None) -> Decimal | None:
    """A part below 万: '3000', '三千五', '3千5百', '一百零五', '十二'."""
    total, pending, last_unit, saw_zero = Decimal(0), None, None, False
    for token in tokens:
        if token in SMALL_UNITS:
            unit = SMALL_UNITS[token]
            if last_unit is not None and unit >= last_unit:
                return None
            if pending is None and unit != 10:
                return None
            total += (pending if pending is not None else Decimal(1)) * unit
            pending, last_unit = None, unit
        elif token in ("零", "〇") and (pending is None):
            saw_zero = True
        else:
            if pending is not None:
                return None
            try:
                pending = Decimal(DIGITS[token]) if token in DIGITS else Decimal(token)
            except InvalidOperation:
                return None
    if pending is not None:
        step = last_unit // 10 if last_unit else (elided_unit or 0)
        single_digit = pending == pending.to_integral_value() and 0 < pending < 10 and not saw_zero
        total += pending * step if step and single_digit else pending
    return total
