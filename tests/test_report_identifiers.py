"""Identifier normalisation: the same phone, account or link written differently matches."""

import pytest

from handlers.identifiers import extract_identifiers, normalize_identifier

CASES = [
    ("+86 138-0013-8000", "phone", "13800138000"),
    ("0086 13800138000", "phone", "13800138000"),
    ("8613800138000", "phone", "13800138000"),
    ("138 0013 8000", "phone", "13800138000"),
    ("(010) 1234-5678", "phone", "01012345678"),
    ("400-123-4567", "phone", "4001234567"),
    ("QQ：12345678", "qq", "12345678"),
    ("微信号: WxID_Abc123", "wechat", "wxid_abc123"),
    ("6222 0212 3456 7890 123", "bank", "6222021234567890123"),
    ("支付宝 abc@163.com", "alipay", "abc@163.com"),
    ("https://WWW.Example.com/pay/?id=3#x", "url", "example.com/pay"),
    ("http://example.com:8080/Pay/", "url", "example.com/Pay"),
    ("t.cn/A6xyZ", "url", "t.cn/A6xyZ"),
    ("pay.example.cn/a/", "url", "pay.example.cn/a"),
    ("@ScamBot", "account", "scambot"),
]


@pytest.mark.parametrize(("raw", "kind", "normalized"), CASES)
def test_one_identifier_is_normalised(raw, kind, normalized):
    item = normalize_identifier(raw)
    assert item is not None and (item.kind, item.normalized) == (kind, normalized), item


def test_too_short_is_not_an_identifier():
    assert normalize_identifier("ab") is None
    assert normalize_identifier("110") is None


def test_several_in_one_message():
    items = extract_identifiers("13800138000, 13900139000\nhttps://bad.site/x 微信 abc123")
    assert [(i.kind, i.normalized) for i in items] == [
        ("phone", "13800138000"), ("phone", "13900139000"), ("url", "bad.site/x"), ("wechat", "abc123")]


def test_labels_and_spaced_numbers_in_a_sentence():
    items = extract_identifiers("电话 138 0013 8000 和 qq 123456")
    assert [(i.kind, i.normalized) for i in items] == [("phone", "13800138000"), ("qq", "123456")]
    items = extract_identifiers("他的QQ是 123456789")
    assert [(i.kind, i.normalized) for i in items] == [("qq", "123456789")]


def test_duplicates_are_kept_once():
    assert len(extract_identifiers("13800138000\n+86 138 0013 8000")) == 1
