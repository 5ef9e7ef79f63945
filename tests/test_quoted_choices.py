"""A number answers the options of the message it quotes (a Telegram reply), else the newest message's;
Telegram updates take the pipeline's per-person turn."""

from __future__ import annotations

from bot.events import Button, Incoming, Kind, text
from tests.support import make_person
from tests.telegram_rig import tg  # noqa: F401  (fixture)

ZH_FIRST = text("语言 / Language", [Button("中文", "lang:zh"), Button("English", "lang:en")])
EN_FIRST = text("Language / 语言", [Button("English", "lang:en"), Button("中文", "lang:zh")])


async def test_delivered_offers_keep_their_message_id(app):
    user = await make_person(app, "20260001")
    account = await app.store.accounts.find("test", user.key)
    choices = app.store.choices
    await choices.remember(account.id, [[("中文", "lang:zh"), ("English", "lang:en")]])
    await choices.delivered(account.id, [("中文", "lang:zh"), ("English", "lang:en")], "41")
    await choices.delivered(account.id, [("English", "lang:en"), ("中文", "lang:zh")], "42")   # a push, not yet remembered
    await choices.set(account.id, [("English", "lang:en"), ("中文", "lang:zh")])               # the outbox after delivery
    memory = await choices.offers(account.id)
    assert memory.refs == ["42", "41"] and not memory.closed
    assert memory.offer_for("41") == [("中文", "lang:zh"), ("English", "lang:en")]
    await choices.delivered(account.id, [("中文", "lang:zh"), ("English", "lang:en")], "42")   # message 42 edited
    assert (await choices.offers(account.id)).offer_for("42")[0] == ("中文", "lang:zh")
    assert (await choices.offers(account.id)).offer_for("41") is None


async def test_a_quoted_number_answers_the_quoted_message_not_the_newest(app):
    user = await make_person(app, "20260002", lang="zh")
    account = await app.store.accounts.find("test", user.key)

    async def say(body: str, quoted: str | None = None) -> str | None:
        await app.store.db.execute("DELETE FROM offered_choices")      # two cards on screen, the older one is 7
        await app.store.choices.remember(account.id, [[("中文", "lang:zh"), ("English", "lang:en")],
                                                      [("English", "lang:en"), ("中文", "lang:zh")]])
        await app.store.choices.delivered(account.id, [("中文", "lang:zh"), ("English", "lang:en")], "7")
        await app.handle(Incoming("test", user.key, user.key, Kind.TEXT, body, quoted=quoted))
        return (await app.store.accounts.find("test", user.key)).language

    assert await say("2", quoted="7") == "en"          # "2" of the quoted message: English
    assert await say("2") == "zh"                      # unquoted: the newest message's "2"
    assert await say("2", quoted="999") == "zh"        # a message with no remembered options: the newest
    replies = await app.handle(Incoming("test", user.key, user.key, Kind.TEXT, "5", quoted="7"))
    assert replies[0].text == app.services.translate("choice.quoted_out_of_range", "zh", count=2)


async def test_telegram_reply_to_an_older_push_answers_that_push(app, tg):  # noqa: F811
    await make_person(app, "20260003", key="5001", platform="telegram")
    for n, message in enumerate((ZH_FIRST, EN_FIRST)):
        await app.outbox.push_to_address("telegram", "5001", "test", message, dedupe_key=f"lang:{n}")
    await tg.api.wait_for(lambda: len([m for m in tg.api.sent_to(5001) if m.get("reply_markup")]) == 2)
    first, second = [m for m in tg.api.sent_to(5001) if m.get("reply_markup")]

    async def language_after(body: str, quoting: dict | None) -> str | None:
        extra = {"reply_to_message": quoting} if quoting else {}
        await tg.say(5001, body, **extra)
        return (await app.store.accounts.find("telegram", "5001")).language

    assert await language_after("2", first) == "en"     # the older push's "2" is English
    assert await language_after("2", second) == "zh"    # the newer push's "2" is 中文
    closed = app.services.translate("choice.closed", "zh")
    assert await tg.say(5001, "1") == [closed]           # the newest push was answered: it has closed


async def test_telegram_updates_take_the_pipelines_per_person_turn(app, tg):  # noqa: F811
    import asyncio

    before = len(tg.api.sent_to(5002))
    async with app.pipeline.ordered("telegram:5002"):      # another event of this person is being handled
        tg.api.message(5002, "/help")
        tg.api.message(5003, "/help")
        await tg.api.wait_for(lambda: tg.api.sent_to(5003))  # another person is answered meanwhile
        await asyncio.sleep(0.2)
        assert len(tg.api.sent_to(5002)) == before          # this one waits its turn
    await tg.settle()
    assert len(tg.api.sent_to(5002)) > before
