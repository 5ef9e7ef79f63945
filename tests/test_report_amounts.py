"""Amount parsing: the way people write sums of money, and the wrong ones that need a question back."""

import pytest

from handlers.amounts import parse_amount

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
    ("3000元和500元", "several"), ("三千或者四千", "several"), ("-300", "negative"), ("负五百", "negative"), ("$100", "foreign"),
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
