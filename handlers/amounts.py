"""Read an amount of money in yuan as people type it: "3000", "3,000元", "三千", "3k", "5万", "一万二", "1.5w"."""

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
_PREFIX = re.compile(r"^(?:大约|大概|约|差不多|将近|一共|总共|共计|总计|合计|共|人民币|损失了?|被骗了?|about|around|approx\.?|roughly|"
                     r"(?:(?:i|we)\s+)?(?:have\s+|'ve\s+)?(?:lost|paid|sent|transferred|gave)\b|"
                     r"~|≈|rmb|cny|¥|￥)+")
_SUFFIX = re.compile(r"(?:人民币|块钱|块|元整|元|圆|整|左右|多|yuan|rmb|cny|kuai|rmb)+$")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_SEPARATORS = re.compile(r"[\s,，、/;；+]|或者|还是|和|或|到|至|~|-|and|or|to")
_UNIT_WORDS = (("thousand", "千"), ("million", "百万"), ("hundred", "百"), ("wan", "万"), ("k", "千"),
               ("w", "万"), ("m", "百万"))
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[零〇一壹二贰两俩三叁四肆五伍六陆七柒八捌九玖]|[十拾百佰千仟万亿]")


@dataclass(frozen=True)
class AmountResult:
    """A parsed amount in whole yuan, or why it could not be read."""

    yuan: int | None
    problem: str | None = None     # unreadable, negative, several, foreign, too_large

    @property
    def ok(self) -> bool:
        """Whether an amount was read."""
        return self.yuan is not None


def parse_amount(text: str) -> AmountResult:
    """Parse a yuan amount; a problem code instead when the input is not one clear amount."""
    raw = unicodedata.normalize("NFKC", text or "").strip().lower()
    if not raw:
        return AmountResult(None, "unreadable")
    if raw in ZERO_WORDS:
        return AmountResult(0)
    if FOREIGN.search(raw):
        return AmountResult(None, "foreign")
    if raw.startswith(("-", "负")):
        return AmountResult(None, "negative")
    body = _THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), raw)
    body = _strip_words(body)
    if not body:
        return AmountResult(None, "unreadable")
    for word, unit in _UNIT_WORDS:
        body = re.sub(rf"(?<=[\d.\s]){word}\b" if len(word) > 1 else rf"(?<=[\d.\s]){word}(?![a-z])", unit, body)
    body = re.sub(r"(?<=[\d.])\s+(?=[十拾百佰千仟万亿])", "", body)
    parts = [p for p in _SEPARATORS.split(body) if p]
    if len(parts) > 1:
        several = all(_parse_number(_strip_words(p)) is not None for p in parts)
        return AmountResult(None, "several" if several else "unreadable")
    value = _parse_number(parts[0]) if parts else None
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


def _parse_number(body: str) -> Decimal | None:
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
