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
