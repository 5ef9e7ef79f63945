"""Amounts and times as people write them: sums, currencies, relative times; the wrong ones get a question back."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from handlers.amounts import parse_amount
from handlers.times import parse_when

GOOD = [
    ("3000", 3000), ("3,000元", 3000), ("三千", 3000), ("3k", 3000), ("3K", 3000), ("5万", 50000),
    ("一万二", 12000), ("1.5w", 15000), ("1.5万", 15000), ("两千五", 2500), ("三千零五十", 3050),
    ("十万", 100000), ("十二万三千", 123000), ("1万5", 15000), ("3千5", 3500), ("壹万", 10000),
    ("伍仟", 5000), ("约3000元", 3000), ("3000左右", 3000), ("3000多", 3000), ("两万块", 20000),
    ("5百", 500), ("RMB 500", 500), ("500 yuan", 500), ("¥3,000.50", 3001), ("￥800", 800),
    ("１２００元", 1200), ("3 thousand", 3000), ("2.3k", 2300), ("1.5 million", 1_500_000),
    ("一百零五", 105), ("1万零5", 10005), ("0", 0), ("没有", 0), ("none", 0), ("三千块钱", 3000),
    ("12,345,678", 12_345_678),
    # written the way a form or a worried message puts it
    ("共计5万元整", 50000), ("总计3000元", 3000), ("合计人民币两万元", 20000), ("I lost 3000 yuan", 3000),
    ("lost about 2k", 2000), ("I paid 800", 800), ("we transferred 4,500 rmb", 4500),
]
BAD = [
    ("abc", "unreadable"), ("", "unreadable"), ("万", "unreadable"), ("3.5.5", "unreadable"),
    ("12ab", "unreadable"), ("1e5", "unreadable"), ("三百千", "unreadable"), ("3000-4000", "several"),
    ("三千或者四千", "several"), ("-300", "negative"), ("负五百", "negative"), ("$100", "foreign"),
    ("100美元", "foreign"), ("20000000000", "too_large"),
]


@pytest.mark.parametrize(("raw", "yuan"), GOOD)
def test_amounts_people_write_are_read(raw, yuan):
    result = parse_amount(raw)
    assert result.ok and result.yuan == yuan, (raw, result)


@pytest.mark.parametrize(("raw", "problem"), BAD)
def test_wrong_amounts_say_what_is_wrong(raw, problem):
    result = parse_amount(raw)
    assert not result.ok and result.problem == problem, (raw, result)


def test_the_table_is_big_enough():
    assert len(GOOD) + len(BAD) >= 30


SUMS = [
    ("paid twice, 2000 and 1500", 3500, (2000, 1500)), ("2000和1500", 3500, (2000, 1500)),
    ("3000元和500元", 3500, (3000, 500)), ("转了两次，2000，1500", 3500, (2000, 1500)),
    ("先转了1000，又转了2500", 3500, (1000, 2500)), ("1000+2000+500", 3500, (1000, 2000, 500)),
    ("两千加五百", 2500, (2000, 500)), ("I paid 800 and then 1,200", 2000, (800, 1200)),
]


@pytest.mark.parametrize(("raw", "yuan", "parts"), SUMS)
def test_several_amounts_are_added_up_for_the_reporter_to_confirm(raw, yuan, parts):
    result = parse_amount(raw)
    assert result.ok and result.several and (result.yuan, result.parts) == (yuan, parts), (raw, result)


RATES = {"USD": Decimal("7.10"), "EUR": Decimal("7.70"), "HKD": Decimal("0.91")}
FOREIGN = [
    ("USD 500", "USD", 500, 3550), ("$500", "USD", 500, 3550), ("500美元", "USD", 500, 3550),
    ("500 dollars", "USD", 500, 3550), ("€200", "EUR", 200, 1540), ("200欧元", "EUR", 200, 1540),
    ("HKD 1,000", "HKD", 1000, 910), ("港币1000", "HKD", 1000, 910), ("USD 300 and 200", "USD", 500, 3550),
]


@pytest.mark.parametrize(("raw", "currency", "original", "yuan"), FOREIGN)
def test_foreign_amounts_keep_their_currency_and_convert_by_the_configured_rate(raw, currency, original, yuan):
    result = parse_amount(raw, RATES)
    assert result.ok and (result.currency, result.original, result.yuan) == (currency, original, yuan), result


def test_a_currency_without_a_rate_is_asked_for_in_yuan():
    assert parse_amount("£50", RATES).problem == "foreign" and parse_amount("USD 500").problem == "foreign"


NOW = datetime(2026, 11, 23, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))     # a Monday noon
TIMES = [
    ("半小时前", "2026-11-23 11:30", "minute"), ("刚才", "2026-11-23 12:00", "minute"),
    ("大概十分钟前", "2026-11-23 11:50", "minute"), ("两个小时前", "2026-11-23 10:00", "minute"),
    ("一个半小时前", "2026-11-23 10:30", "minute"), ("3天前", "2026-11-20 12:00", "day"),
    ("昨天晚上8点", "2026-11-22 20:00", "hour"), ("昨晚8点半", "2026-11-22 20:30", "minute"),
    ("今天上午10点", "2026-11-23 10:00", "hour"), ("今天早上", "2026-11-23 09:00", "hour"),
    ("前天", "2026-11-21 00:00", "day"), ("上周五", "2026-11-20 00:00", "day"), ("周三", "2026-11-18 00:00", "day"),
    ("11月20日晚上9点", "2026-11-20 21:00", "hour"), ("2026-11-20 14:30", "2026-11-20 14:30", "minute"),
    ("晚上十点", "2026-11-22 22:00", "hour"), ("凌晨2点", "2026-11-23 02:00", "hour"),
    ("下午三点一刻", "2026-11-22 15:15", "minute"),
    ("like 20 min ago", "2026-11-23 11:40", "minute"), ("just now", "2026-11-23 12:00", "minute"),
    ("an hour ago", "2026-11-23 11:00", "minute"), ("half an hour ago", "2026-11-23 11:30", "minute"),
    ("5 days ago", "2026-11-18 12:00", "day"), ("yesterday around 8pm", "2026-11-22 20:00", "hour"),
    ("last night", "2026-11-22 20:00", "hour"), ("this morning", "2026-11-23 09:00", "hour"),
    ("last friday", "2026-11-20 00:00", "day"), ("yesterday at 20:15", "2026-11-22 20:15", "minute"),
]


@pytest.mark.parametrize(("raw", "local", "precision"), TIMES)
def test_times_as_people_write_them_become_a_local_moment(raw, local, precision):
    found = parse_when(raw, NOW)
    assert found is not None and (found.at.strftime("%Y-%m-%d %H:%M"), found.precision) == (local, precision), raw


@pytest.mark.parametrize("raw", ["明天", "tomorrow at 3pm", "今天下午3点", "不记得了", "no idea", ""])
def test_no_time_or_one_in_the_future_is_kept_only_as_typed(raw):
    assert parse_when(raw, NOW) is None
