"""`wuzha wechat menu [--push]`: the Official Account's custom menu (learn / report / me) in one language."""

from __future__ import annotations

import json
import sys

# (label key, CLICK key) per top-level button; a CLICK key is the command the dispatcher runs.
MENU: list[tuple[str, list[tuple[str, str]]]] = [
    ("wechat.menu.learn", [
        ("wechat.menu.learn_types", "/learn"),
        ("wechat.menu.quiz", "/quiz"),
        ("wechat.menu.checkin", "/checkin"),
        ("wechat.menu.pledge", "/pledge"),
    ]),
    ("wechat.menu.report", [
        ("wechat.menu.report_now", "/report"),
        ("wechat.menu.lookup", "/check"),
        ("wechat.menu.case", "/case"),
    ]),
    ("wechat.menu.me", [
        ("wechat.menu.profile", "/me"),
        ("wechat.menu.bind", "/start"),
        ("wechat.menu.help", "/help"),
        ("wechat.menu.language", "/lang"),
    ]),
]


def build_menu(translate, lang: str) -> dict:
    """The menu as the menu/create API takes it, labels in lang."""
    return {"button": [
        {"name": translate(top, lang),
         "sub_button": [{"type": "click", "name": translate(label, lang), "key": key} for label, key in items]}
        for top, items in MENU
    ]}


def register(sub) -> None:
    """Add `wuzha wechat menu`."""
    wechat = sub.add_parser("wechat", help="WeChat Official Account tools")
    wechat_sub = wechat.add_subparsers(dest="wechat_command", required=True)
    menu = wechat_sub.add_parser("menu", help="print the Official Account menu; --push uploads it")
    menu.add_argument("--push", action="store_true", help="upload it through the menu API (channels.wechat_oa)")
    menu.add_argument("--lang", choices=("zh", "en"), default=None, help="default: general.default_language")
    menu.set_defaults(func=cmd_menu)


async def cmd_menu(args, config) -> int:
    """Print the menu as JSON; with --push, upload it with the account's credentials."""
    from bot.i18n import Translator
    from bot.library.loader import load_library

    lang = args.lang or config.general.default_language
    menu = build_menu(Translator(load_library(config.content_path()).strings), lang)
    print(json.dumps(menu, ensure_ascii=False, indent=2))
    if not args.push:
        return 0
    if not config.channels.wechat_oa.enabled:
        print("wechat menu --push: set channels.wechat_oa.enabled = true and the WUZHA_WECHAT_* variables",
              file=sys.stderr)
        return 2
    from bot.app import App
    from bot.channels.wechat_oa import DEFAULT_API_BASE, RoutedOAClient, WechatOAChannel

    app = await App(config).open(sender=False)
    try:
        secrets = config.secrets
        client = RoutedOAClient(secrets["WUZHA_WECHAT_APPID"], secrets["WUZHA_WECHAT_SECRET"],
                                secrets.get("WUZHA_WECHAT_API_BASE", DEFAULT_API_BASE))
        channel = WechatOAChannel(app, client)
        await channel.api.load_token()
        try:
            await channel.api.call(client.menu.create, menu)
        except Exception as exc:
            print(f"wechat menu --push: the menu API refused it: {exc}", file=sys.stderr)
            return 1
    finally:
        await app.close()
    print(f"menu uploaded ({lang})")
    return 0
