"""`wuzha wechat menu`: printed in the configured language, uploaded through the (fake) menu API."""

from __future__ import annotations

import argparse
import json

from bot.channels.wechat_menu import cmd_menu
from tests.fakes.wechat_api import FakeWechatApi
from tests.wechat_support import wechat_secrets


async def test_menu_prints_in_each_language(config, capsys):
    assert await cmd_menu(argparse.Namespace(push=False, lang=None), config) == 0
    menu = json.loads(capsys.readouterr().out)
    assert [b["name"] for b in menu["button"]] == ["学防骗", "举报求助", "我的"]
    keys = [s["key"] for b in menu["button"] for s in b["sub_button"]]
    assert {"/quiz", "/report", "/me", "/pledge"} <= set(keys)
    assert all(len(b["sub_button"]) <= 5 for b in menu["button"])
    await cmd_menu(argparse.Namespace(push=False, lang="en"), config)
    assert json.loads(capsys.readouterr().out)["button"][0]["name"] == "Learn"


async def test_menu_push_uploads_it(config, capsys):
    api = await FakeWechatApi().start()
    try:
        config.channels.wechat_oa.enabled = True
        config.secrets.update(wechat_secrets(api.base))
        assert await cmd_menu(argparse.Namespace(push=True, lang="zh"), config) == 0
        (call,) = api.to("menu/create")
        assert call.body["button"][1]["sub_button"][0] == {"type": "click", "name": "我要举报", "key": "/report"}
    finally:
        await api.stop()
    assert "uploaded" in capsys.readouterr().out
