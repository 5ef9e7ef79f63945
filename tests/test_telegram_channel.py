"""The Telegram channel end to end: the real PTB Application against the fake Bot API server."""

from __future__ import annotations

import json

import pytest

from bot.channels.telegram import split_text
from bot.events import Button, Outgoing, QuizSpec, text
from tests.telegram_rig import SECURITY_CHAT, tg  # noqa: F401  (the fixture)

ALICE = 501


async def test_start_with_a_deep_link_binds_in_one_flow(tg, demo_class):  # noqa: F811
    texts = await tg.say(ALICE, f"/start {demo_class.join_code}")
    assert texts, "the bot answered /start"
    hello = tg.last_keyboard(ALICE)
    assert ("English", "lang:en") in tg.buttons(hello)
    # the press drops the keyboard it came from and goes straight to the number (the code came in the link)
    texts = await tg.press(ALICE, "lang:en", hello["message_id"])
    assert "reply_markup" not in tg.api.messages[ALICE][hello["message_id"]]
    assert demo_class.name in texts[-1]
    assert tg.api.calls_of("answerCallbackQuery")
    texts = await tg.say(ALICE, "20230001")
    assert "linked" in texts[-1] or "✅" in texts[-1]
    account = await tg.app.store.accounts.find("telegram", str(ALICE))
    person = await tg.app.store.people.get(account.person_id)
    assert person.person_no == "20230001" and person.class_id == demo_class.id
    assert account.language == "en" and account.chat_key == str(ALICE)


async def test_command_menus_are_set_per_language_and_scope(tg):  # noqa: F811
    menus = tg.api.commands
    private = json.dumps({"type": "all_private_chats"}, sort_keys=True)
    security = json.dumps({"chat_id": SECURITY_CHAT, "type": "chat"}, sort_keys=True)
    groups = json.dumps({"type": "all_group_chats"}, sort_keys=True)
    zh = {c["command"]: c["description"] for c in menus[(private, "zh")]}
    en = {c["command"]: c["description"] for c in menus[(private, "en")]}
    assert "help" in zh and "help" in en and zh["help"] != en["help"]
    assert {c["command"] for c in menus[(groups, "en")]} <= {"help", "start"}
    assert len(menus[(security, "zh")]) >= len(menus[(private, "zh")])


async def test_help_and_me_for_a_bound_user(tg, demo_class):  # noqa: F811
    await tg.bind(ALICE, demo_class.join_code, "20230002", lang="en")
    texts = await tg.say(ALICE, "/help")
    assert "/me" in texts[-1]
    texts = await tg.say(ALICE, "/me")
    assert "20230002" in texts[-1]


async def test_a_refused_press_pops_up_and_keeps_the_keyboard(tg):  # noqa: F811
    await tg.say(ALICE, "/lang")
    menu = tg.last_keyboard(ALICE)
    before = len(tg.api.sent_to(ALICE))
    tg.api.press(ALICE, "unbind:yes", menu["message_id"])     # a guest may not unbind
    await tg.settle()
    answer = tg.api.calls_of("answerCallbackQuery")[-1].params
    assert answer.get("show_alert") is True and answer.get("text")
    assert len(tg.api.sent_to(ALICE)) == before
    assert tg.api.messages[ALICE][menu["message_id"]].get("reply_markup")


async def test_numbers_typed_in_answer_the_offered_buttons(tg):  # noqa: F811
    await tg.say(ALICE, "/lang")
    texts = await tg.say(ALICE, "2")        # "English" is the second button
    assert texts and ("English" in texts[-1] or "language" in texts[-1].lower())


async def test_free_text_in_other_groups_is_ignored_but_commands_are_answered(tg):  # noqa: F811
    group = -4001
    assert await tg.say(ALICE, "hello everyone", chat_id=group) == []
    assert await tg.say(ALICE, "/help@someone_else_bot", chat_id=group) == []
    assert await tg.say(ALICE, "/help@wuzha_test_bot", chat_id=group)


def test_long_texts_split_on_paragraphs():
    paragraph = "诈骗" * 1000                       # 2000 characters
    body = "\n\n".join([paragraph] * 5)              # 10,008 characters
    parts = split_text(body)
    assert all(len(p) <= 4096 for p in parts)
    assert all(p.startswith(paragraph) and p.endswith(paragraph) for p in parts)   # whole paragraphs only
    assert "\n\n".join(parts) == body
    assert split_text("short") == ["short"]
    assert all(len(p) <= 4096 for p in split_text("x" * 9000))


async def test_a_long_reply_arrives_in_parts_with_the_keyboard_on_the_last(tg):  # noqa: F811
    body = "\n\n".join([f"第{i}段。" + "注意防骗。" * 300 for i in range(4)])
    await tg.channel.send(ALICE, text(body, [Button("OK", "/help")]))
    sent = tg.api.sent_to(ALICE)
    assert len(sent) >= 2 and all(len(m["text"]) <= 4096 for m in sent)
    assert "reply_markup" in sent[-1] and all("reply_markup" not in m for m in sent[:-1])


async def test_a_card_with_a_ref_is_edited_in_place(tg):  # noqa: F811
    card = Outgoing(text="R-1 received", buttons=[[Button("ack", "rep:ack:R-1")]], ref="card:R-1")
    await tg.channel.send(SECURITY_CHAT, card)
    await tg.channel.send(SECURITY_CHAT, Outgoing(text="R-1 acknowledged by 张三", ref="card:R-1"))
    sent = tg.api.sent_to(SECURITY_CHAT)
    assert len(sent) == 1 and sent[0]["text"] == "R-1 acknowledged by 张三" and "reply_markup" not in sent[0]
    assert tg.api.calls_of("editMessageText")


async def test_long_button_data_survives_the_64_byte_limit(tg):  # noqa: F811
    data = "/learn " + "x" * 80
    await tg.channel.send(ALICE, text("pick", [Button("long", data)]))
    carried = tg.buttons(tg.last_keyboard(ALICE))[0][1]
    assert len(carried.encode()) <= 64 and carried.startswith("~")
    assert await tg.channel.repo.expand_callback(carried[1:]) == data


async def test_a_quiz_with_long_options_becomes_a_text_and_a_poll_of_letters(tg):  # noqa: F811
    long_option = "对方自称客服，说你的账户异常需要配合注销，否则影响征信，并要求你下载会议软件共享屏幕" * 3
    quiz = QuizSpec("下面哪种说法正确？", [long_option, "乙", "丙"], 1, "因为……", answer_prefix="quiz:ans:")
    await tg.channel.send(ALICE, Outgoing(quiz=quiz))
    listing, poll = tg.api.sent_to(ALICE)[-2:]
    assert long_option in listing["text"] and "B. 乙" in listing["text"]
    assert [o["text"] for o in poll["poll"]["options"]] == ["A", "B", "C"]
    assert poll["poll"]["correct_option_ids"] == [1]


async def test_a_quiz_the_chat_refuses_as_a_poll_falls_back_to_text_buttons(tg):  # noqa: F811
    tg.api.inject("sendPoll", status=400, description="Bad Request: polls can't be sent to this chat")
    quiz = QuizSpec("刷单返利可信吗？", ["可信", "不可信"], 1, "", answer_prefix="quiz:ans:")
    await tg.channel.send(ALICE, Outgoing(quiz=quiz))
    message = tg.api.sent_to(ALICE)[-1]
    assert "poll" not in message and "B. 不可信" in message["text"]
    assert [d for _, d in tg.buttons(message)] == ["quiz:ans:0", "quiz:ans:1"]


async def test_a_quiz_is_a_native_non_anonymous_poll(tg):  # noqa: F811
    quiz = QuizSpec("刷单返利是真的吗？", ["是", "不是"], 1, "刷单就是诈骗。\n切记。", answer_prefix="q:", open_seconds=30)
    await tg.channel.send(ALICE, Outgoing(quiz=quiz))
    params = tg.api.calls_of("sendPoll")[-1].params
    assert params["type"] == "quiz" and params["is_anonymous"] is False
    assert params["correct_option_ids"] == [1] and int(params["open_period"]) == 30
    assert "\n" not in params["explanation"]
    poll_id = tg.api.sent_to(ALICE)[-1]["poll"]["id"]
    record = await tg.channel.repo.poll(poll_id)
    assert record.answer_prefix == "q:" and record.chat_id == ALICE


async def test_photos_and_documents_go_out_with_captions(tg):  # noqa: F811
    await tg.channel.send(ALICE, Outgoing(text="weekly report", image=b"\x89PNG" + b"0" * 100, filename="w.png"))
    await tg.channel.send(ALICE, Outgoing(text="ledger", file=b"a,b\n1,2\n", filename="ledger.csv"))
    photo = tg.api.calls_of("sendPhoto")[-1].params
    document = tg.api.calls_of("sendDocument")[-1].params
    assert photo["caption"] == "weekly report" and photo["photo"].startswith(b"\x89PNG")
    assert document["document"] == b"a,b\n1,2\n" and document["_filename"] == "ledger.csv"


async def test_a_migrated_security_group_keeps_receiving_cards(tg):  # noqa: F811
    new_id = -1009999999
    tg.api.migrate(SECURITY_CHAT, new_id)
    await tg.settle()
    assert tg.app.config.channels.telegram.security_chat_id == new_id
    assert await tg.app.store.telegram.current_chat_id(SECURITY_CHAT) == new_id
    await tg.app.outbox.push_to_security("test", text("card after migration"), "mig-1")
    await tg.api.wait_for(lambda: tg.api.texts_to(new_id) == ["card after migration"])


@pytest.mark.parametrize("size_mb, accepted", [(1, True), (11, False)])
async def test_files_are_downloaded_within_the_size_limit(tg, size_mb, accepted):  # noqa: F811
    data = b"\xff\xd8" + b"0" * (size_mb * 1024 * 1024 - 100)
    tg.api.photo(ALICE, data)
    await tg.settle()
    downloads = [c for c in tg.api.calls if c.method == "download"]
    assert bool(downloads) is accepted
    assert tg.api.texts_to(ALICE), "the user got an answer either way"
