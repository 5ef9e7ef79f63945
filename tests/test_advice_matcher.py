"""The matcher on its own: ranking, urgency in zh and en, bad input, and the classify command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.library.loader import load_library
from bot.library.matcher import OTHER, build_matcher

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def matcher():
    """One matcher over the shipped library for this module."""
    return build_matcher(load_library(ROOT / "content"))


def test_classify_ranks_every_type_best_first(matcher):
    ranked = matcher.classify("有人说我的快递丢了要赔我三倍，让我加QQ")
    assert ranked[0][0] == "fake_service"
    assert len(ranked) == len(matcher.type_ids)
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 100 for s in scores)


@pytest.mark.parametrize("body", ["", "   ", "😀🙏🎉", "asdfgh qwerty", "。。。", "\x00\x01"])
def test_nothing_recognisable_is_other(matcher, body):
    ranked = matcher.classify(body)
    assert ranked[0][0] == OTHER and not matcher.is_urgent(body)


def test_ten_thousand_characters_are_fine(matcher):
    body = "网恋对象让我在投资平台充值" * 800
    assert len(body) >= 10_000
    assert matcher.classify(body)[0][0] == "romance"


@pytest.mark.parametrize("body", [
    "已经转了", "我已经转了5000给他", "我把验证码给他了", "刚刚给对方转了两万", "他让我开了屏幕共享，钱被转走了",
    "我被骗了3000", "前后一共转了8万多", "验证码已经告诉对方了",
    "I already paid", "I sent them 2000 yuan yesterday", "I gave him the verification code",
    "I've transferred all my savings", "I shared my screen with the agent", "I was scammed out of 5000",
])
def test_urgent(matcher, body):
    assert matcher.is_urgent(body)


@pytest.mark.parametrize("body", [
    "对方让我转账，我还没转", "要不要给他转钱", "有人要我的验证码，我没给", "让我交保证金才能提现，靠谱吗",
    "I haven't paid yet, is this a scam?", "should I pay the deposit?", "they want my verification code",
    "someone offered me a part-time job rating hotels",
])
def test_not_urgent(matcher, body):
    assert not matcher.is_urgent(body)


def test_classify_command_prints_one_line_per_description(tmp_path):
    lines = "刷单返利，先垫付再返佣金\n\nthe police said my bank card was used for money laundering\n"
    env_cmd = [sys.executable, "-m", "bot", "--db", str(tmp_path / "x.db"), "classify"]
    plain = subprocess.run(env_cmd, input=lines.encode(), capture_output=True, cwd=ROOT, check=True, timeout=60)
    rows = plain.stdout.decode("utf-8").splitlines()
    assert [r.split("\t")[0] for r in rows] == ["brushing", "other", "fake_authority"]
    as_json = subprocess.run([*env_cmd, "--json"], input=lines.encode(), capture_output=True, cwd=ROOT,
                             check=True, timeout=60)
    records = [json.loads(r) for r in as_json.stdout.decode("utf-8").splitlines()]
    assert [r["type"] for r in records] == ["brushing", "other", "fake_authority"]
    assert all(isinstance(r["score"], float | int) for r in records)
    assert all(len(r["top3"]) == 3 and r["top3"][0] == {"type": r["type"], "score": r["score"]} for r in records)
    assert records[0]["sure"] and records[1]["sure"] is False


@pytest.mark.parametrize("body", [
    "【顺丰速运】您的快件已到达东门驿站，取件码3-1-2201",
    "快递因为下大雨晚到了一天，物流显示在派送",
    "我在淘宝自己申请的退货退款，商家同意了，钱原路退回",
    "学院发通知说国家助学金在学工系统里申请",
    "96110给我打电话了，是真的吗",
    "my professor emailed me about my essay draft",
    "how do I report a scam text?",
    "96110 called me, is it real?",
    "I started a return on Amazon and got my refund",
    "学校发的奖学金通知是真的吗",
    "is the scholarship email from my university real? it is on the student portal",
    "Your verification code is 482910. Do not share this code with anyone.",
    "I requested a login code for my new phone and got the SMS",
    "how do I report a fake police call?",
    "rent reminder from my landlord",
])
def test_ordinary_messages_are_other_and_say_which_kind(matcher, body):
    verdict = matcher.judge(body)
    assert verdict.top[0] == OTHER and verdict.benign is not None


@pytest.mark.parametrize(("body", "expected"), [
    ("有人说我的快递丢了要理赔，让我加QQ开屏幕共享，这是诈骗吗", "fake_service"),
    ("网上兼职刷单先垫付再返佣金，是骗局吗", "brushing"),
    ("is it a scam if a recruiter wants me to prepay for tasks to unlock my commission?", "brushing"),
    ("the caller said he's from the Chinese embassy and my passport is linked to a crime, is this real?",
     "fake_authority"),
    ("有人打电话说我的奖学金发放失败，要重新登记银行卡，是真的吗", "subsidy"),
    ("网上兼职刷单一单返10块，是真的吗", "brushing"),
    ("someone offered me a part-time job rating hotels, is this legit?", "brushing"),
    ("教育局打电话说我有一笔补助金可以领，是真的吗", "subsidy"),
    ("Got a call from the bank's fraud team saying my account is compromised, is that real?", "fake_service"),
])
def test_asking_whether_a_scam_is_one_is_answered_for_that_scam(matcher, body, expected):
    assert matcher.top(body)[0] == expected


@pytest.mark.parametrize("body", [
    "Someone texted me by mistake asking if I was Linda. We kept chatting every day for two months, then she "
    "showed me her profits on a crypto trading app and helped me open an account. Now they want a tax to withdraw.",
    "去年有个陌生人说加错人了，后来我们每天聊天，三个月后她带我在一个平台买比特币，现在提不出来",
])
def test_weeks_of_courtship_that_end_on_a_platform_are_romance(matcher, body):
    assert matcher.top(body)[0] == "romance"


@pytest.mark.parametrize(("body", "expected"), [
    ("I got paid by check for a job and they want me to buy gift cards with the rest", "job"),
    ("my parcel delivery failed, got a text with a link to pay a redelivery fee", "fake_service"),
    ("the landlord is abroad and wants the deposit before any viewing", "property"),
])
def test_surface_words_do_not_beat_the_script(matcher, body, expected):
    assert matcher.top(body)[0] == expected


def test_the_verdict_offers_three_choices_when_unsure(matcher):
    verdict = matcher.judge("有个人一直加我好友")
    assert not verdict.sure and len(verdict.top3) == 3
    assert matcher.judge("有人拉我进群做点赞任务，先返了几块钱，现在让我垫付3000做连单才能提现").sure


def test_naive_bayes_prefers_the_class_whose_words_it_saw():
    from bot.library.semantic import NaiveBayes

    bayes = NaiveBayes([(0, ["刷单", "返利"], 1.0), (1, ["快递", "驿站"], 1.0)], 2)
    assert bayes.probabilities(["快递", "取件"])[1] > 0.9
    assert bayes.probabilities(["nothing"]) == [0.5, 0.5]


def test_the_semantic_signal_can_be_fused_without_changing_clear_answers():
    from bot.library.matcher import Weights

    fused = build_matcher(load_library(ROOT / "content"), Weights(semantic=10.0))
    assert fused.top("有人拉我进群做点赞任务，先返了几块钱，现在让我垫付3000做连单才能提现")[0] == "brushing"
