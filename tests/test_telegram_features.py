"""The program's features as Telegram users meet them: pledge, self-check, quiz poll, report with a photo,
and the report card in the security group."""

from __future__ import annotations

from bot.roles import OFFICE
from tests.telegram_rig import SECURITY_CHAT, tg  # noqa: F401  (the fixture)

STUDENT = 601
OFFICER = 900
BYSTANDER = 901


async def conversation_step(rig, user_id: int) -> str | None:
    """The step of the user's persisted conversation, if any."""
    account = await rig.app.store.accounts.find("telegram", str(user_id))
    state = await rig.app.store.conversations.get(account.id)
    return state.step if state else None


async def test_the_pledge_is_signed_with_one_press(tg, demo_class):  # noqa: F811
    await tg.bind(STUDENT, demo_class.join_code, "20231001")
    await tg.say(STUDENT, "/pledge")
    sign = next(d for _, d in tg.buttons(tg.last_keyboard(STUDENT)) if d.startswith("pledge:sign:"))
    pressed = tg.last_keyboard(STUDENT)["message_id"]
    texts = await tg.press(STUDENT, sign, pressed)
    assert any("✅" in t for t in texts)
    assert "reply_markup" not in tg.api.messages[STUDENT][pressed]       # no stale "sign" button
    person = await tg.app.store.people.by_number("20231001")
    assert (await tg.app.store.pledges.latest(person.id))[0] >= 1


async def test_a_self_check_is_answered_with_buttons(tg, demo_class):  # noqa: F811
    await tg.bind(STUDENT, demo_class.join_code, "20231002")
    await tg.say(STUDENT, "/checkin")
    for _ in range(tg.app.config.program.checkin_questions):
        keyboard = [m for m in tg.api.sent_to(STUDENT) if "ci:" in str(m.get("reply_markup"))][-1]
        answer = [d for _, d in tg.buttons(keyboard) if d.startswith("ci:")][-1]      # "no"
        await tg.press(STUDENT, answer, keyboard["message_id"])
    person = await tg.app.store.people.by_number("20231002")
    day = tg.app.clock.now().astimezone(tg.app.config.tz).date().isoformat()
    answered = await tg.app.store.checkins.answered_on(person.id, day)
    assert len(answered) == tg.app.config.program.checkin_questions


async def test_a_quiz_is_played_as_native_polls_answered_through_poll_answer(tg, demo_class):  # noqa: F811
    tg.app.config.program.quiz_size = 3
    await tg.bind(STUDENT, demo_class.join_code, "20231003", lang="en")
    await tg.say(STUDENT, "/quiz")
    for number in range(3):
        polls = tg.api.calls_of("sendPoll")
        assert len(polls) == number + 1, "each question arrives as a poll"
        params = polls[-1].params
        assert params["type"] == "quiz" and params["is_anonymous"] is False
        poll_id = [m for m in tg.api.sent_to(STUDENT) if "poll" in m][-1]["poll"]["id"]
        tg.api.poll_answer(STUDENT, poll_id, params["correct_option_ids"])
        await tg.settle()
    person = await tg.app.store.people.by_number("20231003")
    assert await tg.app.store.quizzes.has_passed(person.id)
    assert "100" in "\n".join(tg.api.texts_to(STUDENT)[-3:])


async def file_report(rig, user_id: int, photo: bytes) -> None:
    """Go through /report: nothing lost, a description, the first suggested type, skips, one photo, submit."""
    await rig.say(user_id, "/report")
    for _ in range(20):
        step = await conversation_step(rig, user_id)
        if step is None:
            return
        if step == "money":
            await rig.press(user_id, "rep:money:no")
        elif step == "what":
            await rig.say(user_id, "有人在QQ上让我刷单返利，先让我垫付 200 元，说马上返还佣金。对方QQ 123456789")
        elif step == "type":
            choice = next(d for _, d in rig.buttons(rig.last_keyboard(user_id)) if d.startswith("rep:type:"))
            await rig.press(user_id, choice)
        elif step == "evidence":
            rig.api.photo(user_id, photo, caption="聊天截图")
            await rig.settle()
            await rig.press(user_id, "rep:done")
        elif step == "preview":
            await rig.press(user_id, "rep:submit")
        else:
            await rig.press(user_id, "rep:skip")
    raise AssertionError("the report form did not finish")


async def test_a_full_report_with_a_photo_reaches_the_security_group(tg, demo_class):  # noqa: F811
    await tg.bind(STUDENT, demo_class.join_code, "20231004")
    photo = b"\xff\xd8\xff\xe0" + b"JPEGDATA" * 500
    await file_report(tg, STUDENT, photo)
    report = await tg.app.store.db.fetchone("SELECT * FROM reports ORDER BY id DESC LIMIT 1")
    assert report["status"] == "received" and report["case_no"]
    evidence = await tg.app.store.db.fetchall("SELECT * FROM report_evidence WHERE report_id = ?", (report["id"],))
    assert len(evidence) == 1 and evidence[0]["size"] == len(photo)
    assert (tg.app.config.evidence_path / evidence[0]["path"]).read_bytes() == photo
    assert any(c.method == "download" for c in tg.api.calls)              # fetched through getFile
    await tg.api.wait_for(lambda: any(report["case_no"] in t for t in tg.api.texts_to(SECURITY_CHAT)), within=5)


async def test_the_card_is_acknowledged_in_the_group_and_refused_to_others(tg, demo_class):  # noqa: F811
    await tg.bind(STUDENT, demo_class.join_code, "20231005")
    await tg.bind(BYSTANDER, demo_class.join_code, "20231006")
    officer = await tg.app.store.people.create("S0001", None, "保卫处", role="security")
    await _link(tg, OFFICER, officer.id)
    await file_report(tg, STUDENT, b"\x89PNG" + b"x" * 64)
    report = await tg.app.store.db.fetchone("SELECT * FROM reports ORDER BY id DESC LIMIT 1")
    case_no = report["case_no"]
    ack = f"rep:ack:{case_no}"

    def card():
        cards = [m for m in tg.api.sent_to(SECURITY_CHAT) if m.get("text", "").startswith("📋")]
        return cards[-1] if cards else None

    await tg.api.wait_for(lambda: card() is not None and "reply_markup" in card(), within=5)
    message_id = card()["message_id"]
    assert await tg.app.store.telegram.message_for_ref(SECURITY_CHAT, f"card:{case_no}") == message_id
    assert ack in [d for _, d in tg.buttons(card())]
    assert "security" in OFFICE

    # a member without the security role: a pop-up, nothing changes
    tg.api.press(BYSTANDER, ack, message_id, chat_id=SECURITY_CHAT)
    await tg.settle()
    answer = tg.api.calls_of("answerCallbackQuery")[-1].params
    assert answer["show_alert"] is True and answer["text"]
    assert (await tg.app.store.reports.get(report["id"]))["status"] == "received"
    assert ack in [d for _, d in tg.buttons(card())]

    # the officer presses: acknowledged, and the same message now says who did it
    before = card()["text"]
    tg.api.press(OFFICER, ack, message_id, chat_id=SECURITY_CHAT)
    await tg.settle()
    assert (await tg.app.store.reports.get(report["id"]))["status"] == "acknowledged"
    edited = tg.api.messages[SECURITY_CHAT][message_id]
    await tg.api.wait_for(lambda: edited["text"] != before, within=5)       # edited in place, not posted again
    assert await tg.app.store.telegram.message_for_ref(SECURITY_CHAT, f"card:{case_no}") == message_id
    assert not [m for m in tg.api.sent_to(SECURITY_CHAT)
                if m["message_id"] != message_id and "📋" in m.get("text", "")]
    assert "S0001" in edited["text"] and edited.get("reply_markup")      # who did it; the next steps' buttons


async def _link(rig, user_id: int, person_id: int) -> None:
    """Link a Telegram account to an existing person (as an admin's roster import would)."""
    account = await rig.app.store.accounts.touch("telegram", str(user_id), str(user_id))
    await rig.app.store.accounts.bind(account.id, person_id)
