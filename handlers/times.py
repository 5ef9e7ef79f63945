"""When something happened, as victims type it ("半小时前", "昨天晚上8点", "like 20 min ago"), as a local time.

parse_when returns the moment in the school's time zone with how precise it is ('minute', 'hour' or
'day'), or None when the words name no time, or one in the future. The words are kept beside it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from handlers.amounts import parse_number

FUTURE_SLACK = timedelta(minutes=5)
_CN_NUM = r"[\d零〇一二两三四五六七八九十百]+"
_AGO_ZH = re.compile(rf"(?:大概|大约|约|差不多|就)?({_CN_NUM}|半)?\s*(个)?(半)?\s*(分钟|分|小时|钟头|天|日|周|星期|礼拜)(?:之|以)?前")
_AGO_EN = re.compile(
    r"(?:like|about|around|approx\.?|~|maybe)?\s*(\d+(?:\.\d+)?|an?|one|two|three|four|five|six|ten|fifteen|twenty|"
    r"thirty|forty|half an?|a couple of|a few)\s*(min(?:ute)?s?|hours?|hrs?|h|days?|weeks?)\s+ago", re.I)
_AHEAD = re.compile(r"明天|后天|明早|明晚|下周|tomorrow|next\s+(?:week|monday|tuesday|wednesday|thursday|friday|saturday|sunday)", re.I)
_NOW = re.compile(r"^(?:刚才|刚刚|就刚才|刚|方才|just now|a moment ago|right now|now|moments ago)$", re.I)
_WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAYS_EN = {"monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "wednesday": 2, "wed": 2, "thursday": 3, "thu": 3,
                "friday": 4, "fri": 4, "saturday": 5, "sat": 5, "sunday": 6, "sun": 6}
_EN_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10,
               "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "half an": 0.5, "half a": 0.5,
               "a couple of": 2, "a few": 3}
_UNIT_MINUTES = {"分钟": 1, "分": 1, "小时": 60, "钟头": 60, "天": 1440, "日": 1440, "周": 10080, "星期": 10080,
                 "礼拜": 10080}
_FULL_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?")
_MONTH_DAY = re.compile(r"(?<!\d)(\d{1,2})(?:[-/]|月)(\d{1,2})[日号]?(?!\d)")
_CLOCK = re.compile(r"(?<!\d)(\d{1,2})[:：](\d{2})(?!\d)\s*(am|pm)?", re.I)
_HOUR_ZH = re.compile(rf"({_CN_NUM})\s*[点時时](?:\s*(半|一刻|三刻|({_CN_NUM})\s*分?))?")
_HOUR_EN = re.compile(r"(?<![\d:])(\d{1,2})(?:\s*(am|pm|a\.m\.|p\.m\.)|\s*o'?clock)", re.I)
_PART_ZH = (("凌晨", "dawn"), ("早上", "morning"), ("早晨", "morning"), ("今早", "morning"), ("上午", "morning"),
            ("中午", "noon"), ("下午", "afternoon"), ("傍晚", "evening"), ("晚上", "evening"), ("夜里", "night"),
            ("半夜", "night"), ("昨晚", "evening"), ("今晚", "evening"), ("晚", "evening"))
_PART_EN = (("this morning", "morning"), ("in the morning", "morning"), ("morning", "morning"),
            ("afternoon", "afternoon"), ("evening", "evening"), ("tonight", "evening"), ("last night", "evening"),
            ("night", "evening"), ("noon", "noon"), ("midnight", "night"))
_PART_HOUR = {"dawn": 5, "morning": 9, "noon": 12, "afternoon": 15, "evening": 20, "night": 23}


@dataclass(frozen=True)
class When:
    """A moment in the school's zone and how precise the words were."""

    at: datetime
    precision: str        # minute, hour or day


def parse_when(text: str, now: datetime) -> When | None:
    """The moment the words name, relative to now (aware, in the school's zone); None if none or in the future."""
    raw = unicodedata.normalize("NFKC", text or "").strip().lower()
    if not raw:
        return None
    found = _parse(raw, now)
    if found is None or found.at > now + FUTURE_SLACK:
        return None
    return found


def _parse(raw: str, now: datetime) -> When | None:
    if _NOW.match(raw.rstrip("。.!！")):
        return When(now.replace(second=0, microsecond=0), "minute")
    if m := _AGO_ZH.search(raw):
        amount = 0.5 if m.group(1) == "半" else (_zh_number(m.group(1)) if m.group(1) else 1)
        if amount is None:
            return None
        amount += 0.5 if m.group(3) else 0
        minutes = amount * _UNIT_MINUTES[m.group(4)]
        return _ago(now, minutes)
    if m := _AGO_EN.search(raw):
        word = m.group(1).lower()
        amount = _EN_NUMBERS.get(word, None) if not word[0].isdigit() else float(word)
        unit = m.group(2).lower()
        scale = 1 if unit.startswith("min") else 60 if unit.startswith("h") else 1440 if unit.startswith("d") else 10080
        return _ago(now, amount * scale) if amount is not None else None
    if _AHEAD.search(raw):
        return None               # 明天 / tomorrow: not something that happened
    day = _day(raw, now.date())
    hour, minute, precise = _clock(raw)
    if day is None and hour is None:
        return None
    if hour is None:
        return When(datetime.combine(day, time(), tzinfo=now.tzinfo), "day")
    at = datetime.combine(day or now.date(), time(hour, minute), tzinfo=now.tzinfo)
    if day is None and at > now + FUTURE_SLACK:
        at -= timedelta(days=1)   # "晚上十点" said at noon: last night
    return When(at, "minute" if precise else "hour")


def _ago(now: datetime, minutes: float) -> When:
    """now minus some minutes, as precise as the unit was."""
    at = (now - timedelta(minutes=minutes)).replace(second=0, microsecond=0)
    return When(at, "minute" if minutes < 180 else "hour" if minutes < 1440 else "day")


def _zh_number(token: str) -> float | None:
    """'20', '二十', '两' as a number."""
    value = parse_number(token.replace("两", "二"))
    return float(value) if value is not None else None


def _day(raw: str, today: date) -> date | None:
    """The day the words name: a date, 今天/昨天/前天, yesterday, last Friday, 上周五, 周三."""
    if m := _FULL_DATE.search(raw):
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    for words, back in ((("大前天",), 3), (("前天", "day before yesterday"), 2),
                        (("昨天", "昨日", "昨晚", "昨夜", "yesterday", "last night"), 1),
                        (("今天", "今日", "今早", "今晚", "today", "tonight", "this morning", "this afternoon",
                          "this evening"), 0)):
        if any(word in raw for word in words):
            return today - timedelta(days=back)
    if m := re.search(r"(上)?(?:周|星期|礼拜)([一二三四五六日天])", raw):
        return _weekday_before(today, _WEEKDAYS_ZH[m.group(2)], bool(m.group(1)))
    if m := re.search(r"\b(last\s+|on\s+)?(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|"
                      r"thu|fri|sat|sun)\b", raw):
        return _weekday_before(today, _WEEKDAYS_EN[m.group(2)], (m.group(1) or "").strip() == "last")
    if m := _MONTH_DAY.search(_CLOCK.sub(" ", raw)):
        try:
            day = date(today.year, int(m.group(1)), int(m.group(2)))
        except ValueError:
            return None
        return day if day <= today else day.replace(year=today.year - 1)
    return None


def _weekday_before(today: date, weekday: int, last_week: bool) -> date:
    """The most recent such weekday (today counts), or that day of last week."""
    if last_week:
        monday = today - timedelta(days=today.weekday() + 7)
        return monday + timedelta(days=weekday)
    return today - timedelta(days=(today.weekday() - weekday) % 7)


def _clock(raw: str) -> tuple[int | None, int, bool]:
    """(hour, minute, precise) from '8点半', '20:30', '8pm', with 晚上/afternoon shifting to the afternoon."""
    part = next((p for word, p in (*_PART_ZH, *_PART_EN) if word in raw), None)
    hour = minute = None
    precise = False
    if m := _CLOCK.search(raw):
        hour, minute, precise = int(m.group(1)), int(m.group(2)), True
        part = {"am": "morning", "pm": "afternoon"}.get((m.group(3) or "").lower(), part)
    elif m := _HOUR_ZH.search(raw):
        hour = _zh_number(m.group(1))
        hour = int(hour) if hour is not None else None
        extra = m.group(2)
        minute = {"半": 30, "一刻": 15, "三刻": 45}.get(extra or "", None)
        if minute is None and m.group(3):
            value = _zh_number(m.group(3))
            minute = int(value) if value is not None else 0
        precise = minute is not None
        minute = minute or 0
    elif m := _HOUR_EN.search(raw):
        hour, minute = int(m.group(1)), 0
        marker = (m.group(2) or "").replace(".", "").lower()
        part = {"am": "morning", "pm": "afternoon"}.get(marker, part)
    if hour is None:
        if part is None:
            return None, 0, False
        return _PART_HOUR[part], 0, False
    if part in ("afternoon", "evening") and hour < 12:
        hour += 12
    elif part == "night" and 6 <= hour < 12:
        hour += 12
    elif part == "noon" and hour < 6:
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None, 0, False
    return hour, minute, precise
