"""The /report form through the dispatcher, in zh and en: urgent path, normal path, anonymous, limits, lookup."""

from __future__ import annotations

import pytest

from tests.support import RecordingChannel, User, make_person


# --- helpers shared with tests/test_report_office.py ------------------------------------------
def security_channel(app) -> RecordingChannel:
    """The console channel (the security channel's default target) and the test platform, recorded."""
    if "console" not in app.channels:
        app.add_channel(RecordingChannel("console"))
        app.add_channel(RecordingChannel("test"))
    return app.channels["console"]


async def drain(app) -> None:
    """Deliver everything due on every recorded channel."""
    for sender in app.senders.values():
        while await sender.drain_once():
            pass


async def cards(app) -> list:
    """Every card delivered to the security channel so far."""
    await drain(app)
    return app.channels["console"].to("security")


def buttons(user: User) -> list[str]:
    """The button data of the last replies."""
    return [b.data for r in user.replies for b in r.flat_buttons()]


@pytest.fixture
async def student(app, demo_class):
    """A bound student with a recorded security channel."""
    security_channel(app)
    return await make_person(app, "2023001", class_id=demo_class.id, college=demo_class.college)


# --- the urgent path ----------------------------------------------------------------------------
async def test_urgent_path_escalates_before_the_form_is_complete_zh(app, student):
    await student.say("/report")
    assert "钱或验证码" in student.text
    await student.press("rep:money:money")
    # The emergency card comes first, at once, marked urgent; the case number follows.
    assert student.replies[0].urgent and "110" in student.replies[0].text and "96110" in student.replies[0].text
    assert "R-2026-000001" in student.text
    sent = await cards(app)
    assert len(sent) == 1 and sent[0].ref == "card:R-2026-000001" and "🚨" in sent[0].text
    assert sent[0].urgent
    report = await app.store.reports.by_case_no("R-2026-000001")
    assert report["urgent"] == 1 and report["form_complete"] == 0 and report["escalated_at"]

    # Details arrive and the card is updated with the same ref.
    await student.say("有人冒充快递客服说要理赔，让我开了屏幕共享，卡里的钱被转走了")
    await student.press(buttons(student)[0])            # confirm the suggested type
    await student.press("rep:when:now")
    await student.press("rep:contact:phone")
    await student.say("+86 138-0013-8000, https://www.pay-scam.com/x?a=1")
    assert "13800138000" in student.text and "pay-scam.com/x" in student.text
    await student.press("rep:done")
    await student.say("三千五百块")
    assert "3,500" in student.text
    await student.press("rep:pay:alipay")
    await student.send_file(b"\x89PNG" + b"x" * 1000)
    assert "1" in student.text
    await student.press("rep:done")
    assert "13800138000" in student.text and "3,500" in student.text      # the preview
    assert "rep:submit_anon" not in buttons(student)                         # a loss is never anonymous
    await student.press("rep:submit")
    assert "R-2026-000001" in student.text
    sent = await cards(app)
    assert all(c.ref == "card:R-2026-000001" for c in sent)
    last = sent[-1].text
    assert "13800138000" in last and "3,500" in last and "⚑" in last and "证据：1" in last
    report = await app.store.reports.by_case_no("R-2026-000001")
    assert report["form_complete"] == 1 and report["flagged_review"] == 1 and report["amount_yuan"] == 3500
    evidence = await app.store.reports.evidence(report["id"])
    assert (app.config.evidence_path / evidence[0].path).read_bytes().startswith(b"\x89PNG")
    assert len(evidence[0].sha256) == 64

    await student.say("/myreports")
    assert "R-2026-000001" in student.text and "已收到" in student.text


async def test_urgent_free_text_first_still_escalates(app, student):
    await student.say("/report")
    await student.say("是")
    assert student.replies[0].urgent
    assert len(await cards(app)) == 1


async def test_victim_care_follow_ups_after_1_3_7_days(app, clock, student):
    await student.say("/report")
    await student.press("rep:money:money")
    await drain(app)
    test_channel = app.channels["test"]
    assert not test_channel.to(student.key)
    for day, word in ((1, "不是你的错"), (3, "追款"), (7, "一周")):
        clock.advance(days=1 if day == 1 else day - (1 if day == 3 else 3))
        await drain(app)
        assert word in test_channel.to(student.key)[-1].text
    texts = "\n".join(m.text for m in test_channel.to(student.key))
    assert "12348" in texts and "心理咨询" in texts


# --- the normal path, in English -------------------------------------------------------------------
async def test_whole_form_in_english_without_loss(app, demo_class):
    security_channel(app)
    user = await make_person(app, "2023002", class_id=demo_class.id, college=demo_class.college, lang="en")
    await user.say("/report")
    assert "Has money or a code" in user.text or "money or a code" in user.text
    await user.say("no")
    assert "What happened" in user.text
    assert not await cards(app)                       # nothing escalated yet: no loss, form open
    await user.say("Someone on QQ offered me a part-time job liking videos for a rebate and wanted a deposit")
    assert "Is that right?" in user.text or "Choose the closest" in user.text
    await user.say("1")                               # answering a button by its number
    await user.say("yesterday evening")
    await user.press("rep:contact:qq")
    await user.say("QQ: 98765432")
    await user.press("rep:done")
    assert "How much" not in user.text                # no loss: amount and payment are skipped
    await user.press("rep:skip")                      # evidence skipped
    assert "Please check your report" in user.text and "98765432" in user.text
    assert "rep:submit_anon" in buttons(user)
    await user.press("rep:submit")
    assert "Report submitted as case R-2026-000001" in user.text
    sent = await cards(app)
    assert len(sent) == 1 and "98765432" in sent[0].text and "yesterday evening" in sent[0].text


async def test_every_step_can_be_skipped(app, student):
    await student.say("/report")
    for _ in range(12):
        if "rep:submit" in buttons(student):
            break
        await student.press("rep:skip")
    assert "rep:submit" in buttons(student)
    await student.press("rep:submit")
    assert "R-2026-000001" in student.text


async def test_anonymous_report_is_not_linked(app, student):
    await student.say("/report")
    await student.press("rep:money:no")
    await student.say("有个陌生人加我QQ说可以刷单返利，我没理他")
    await student.press("rep:skip")
    await student.press("rep:skip")
    await student.press("rep:skip")
    await student.say("QQ 55667788")
    await student.press("rep:done")
    await student.press("rep:done")
    await student.press("rep:submit_anon")
    assert "匿名" in student.text
    report = await app.store.reports.by_case_no("R-2026-000001")
    assert report["anonymous"] == 1 and report["reporter_person_id"] is None and report["reporter_account_id"] is None
    await student.say("/myreports")
    assert "R-2026-000001" not in student.text
    assert "匿名" in (await cards(app))[0].text


async def test_wrong_amount_gets_a_question_and_changes_nothing(app, student):
    await student.say("/report")
    await student.press("rep:money:money")
    for _ in range(5):
        if "损失了多少钱" in student.text:
            break
        await student.press("rep:skip")
    await student.say("三千或者四千")
    assert "不止一个金额" in student.text
    app.config.currency.rates = ["EUR 7.70"]                  # no rate for dollars: asked for yuan
    await student.say("$500")
    assert "人民币" in student.text
    report = await app.store.reports.by_case_no("R-2026-000001")
    assert report["amount_yuan"] is None
    await student.say("5万")
    assert "50,000" in student.text


async def test_several_amounts_are_summed_and_confirmed_and_a_time_is_read(app, student):
    await student.say("/report")
    await student.press("rep:money:money")
    for _ in range(6):
        if "什么时候" in student.text:
            break
        await student.press("rep:skip")
    await student.say("昨天晚上8点")
    assert "记为 2026-11-22 20:00" in student.text
    report = await app.store.reports.by_case_no("R-2026-000001")
    assert report["happened_at"] == "昨天晚上8点" and report["happened_ts"] == "2026-11-22T12:00:00.000000+00:00"
    for _ in range(5):
        if "损失了多少钱" in student.text:
            break
        await student.press("rep:skip")
    await student.say("转了两次，2000和1500")
    assert "2,000 + 1,500" in student.text and "3,500" in student.text and "rep:amount_sum" in buttons(student)
    assert (await app.store.reports.by_case_no("R-2026-000001"))["amount_yuan"] is None     # not before confirming
    await student.press("rep:amount_sum")
    assert "3,500" in student.text
    report = await app.store.reports.by_case_no("R-2026-000001")
    assert report["amount_yuan"] == 3500 and report["flagged_review"] == 1 and report["amount_currency"] is None


async def test_a_loss_in_dollars_is_kept_in_dollars_and_counted_in_yuan(app, student):
    await student.say("/report")
    await student.press("rep:money:money")
    for _ in range(6):
        if "损失了多少钱" in student.text:
            break
        await student.press("rep:skip")
    await student.say("USD 500")
    assert "500 USD" in student.text and "3,550" in student.text
    report = await app.store.reports.by_case_no("R-2026-000001")
    assert (report["amount_yuan"], report["amount_currency"], report["amount_original"]) == (3550, "USD", "500")
    assert "3,550（500 USD）" in (await cards(app))[-1].text


async def test_evidence_over_the_size_limit_is_refused_clearly(app, student):
    app.config.reports.evidence_max_mb = 1
    await student.say("/report")
    await student.send_file(b"x" * (1024 * 1024 + 10), "big.png")
    assert "1 MB" in student.text and "没有保存" in student.text
    report_id = (await app.store.db.fetchone("SELECT id FROM reports"))["id"]
    assert await app.store.reports.evidence_count(report_id) == 0


async def test_daily_limit(app, student):
    app.config.reports.max_per_day = 2
    for _ in range(2):
        await student.say("/report")
        if "还没有完成的举报" in student.text:      # the urgent case left halfway is offered first
            await student.press_label("新建举报")
        await student.press("rep:money:money")
        await student.say("/cancel")
    await student.say("/report")
    assert "上限" in student.text and "110" in student.text


async def test_guest_gets_the_emergency_card_first_then_the_urgent_form(app):
    guest = User(app, "stranger")
    await guest.say("/report")
    assert guest.replies[0].urgent and "96110" in guest.replies[0].text
    assert guest.replies[-1].text == app.services.translate("report.ask_money", "zh")


# --- lookup ---------------------------------------------------------------------------------------------
async def test_lookup_counts_reports_and_hides_reporters(app, demo_class, student):
    student_b = await make_person(app, "2023009", class_id=demo_class.id, college=demo_class.college,
                                  name="王小明")
    for user in (student, student_b):
        await user.say("/report")
        await user.press("rep:money:money")
        await user.say("刷单返利，先垫付后返佣，结果钱转过去就被拉黑了")
        await user.press(buttons(user)[0])
        await user.press("rep:skip")
        await user.press("rep:skip")
        await user.say("138 0013 8000")
        await user.press("rep:done")
    checker = await make_person(app, "2023010", class_id=demo_class.id, college=demo_class.college)
    await checker.say("/check +86 13800138000")
    assert "2" in checker.text and "13800138000" in checker.text
    assert "王小明" not in checker.text and "2023009" not in checker.text and "2023001" not in checker.text
    assert "/report" in buttons(checker)
    await checker.say("/check 13900000000")
    assert "暂无" in checker.text


async def test_lookup_of_a_link_finds_its_site_but_a_short_link_only_exactly(app, demo_class, student):
    await student.say("/report")
    await student.press("rep:money:money")
    await student.say("说快递丢了要理赔，让我打开链接填银行卡，结果卡里的钱被转走了")
    await student.press(buttons(student)[0])
    await student.press("rep:skip")
    await student.press("rep:skip")
    await student.say("his site was jd-lipei.top/refund, also https://t.cn/A6xyZ")
    await student.press("rep:done")
    checker = await make_person(app, "2023012", class_id=demo_class.id, college=demo_class.college)
    for query in ("jd-lipei.top", "https://www.JD-LIPEI.top/other", "t.cn/A6xyZ"):
        await checker.say(f"/check {query}")
        assert "1" in checker.text and "暂无" not in checker.text, query
    await checker.say("/check t.cn/a6xyz")
    assert "暂无" in checker.text
    await checker.say("/check t.cn")
    assert "短链接" in checker.text
    await checker.say("/check his")
    assert "暂无" in checker.text


async def test_same_identifier_from_two_people_raises_a_campaign_alert(app, demo_class, student):
    student_b = await make_person(app, "2023011", class_id=demo_class.id, college=demo_class.college)
    for user in (student, student_b):
        await user.say("/report")
        await user.press("rep:money:no")
        await user.say("自称客服的人让我退款，发了一个链接")
        await user.press("rep:skip")
        await user.press("rep:skip")
        await user.press("rep:skip")
        await user.say("https://refund-help.cn/pay")
        await user.press("rep:done")
        await user.press("rep:done")
        await user.press("rep:submit")
    sent = await cards(app)
    alerts = [c for c in sent if c.ref.startswith("campaign:")]
    assert len(alerts) == 1 and "refund-help.cn/pay" in alerts[0].text
    assert alerts[0].flat_buttons()[0].data.startswith("rep:warn:")


async def test_a_draft_nobody_filed_is_dropped_after_a_week_with_its_files(app, clock, demo_class, user_factory):
    from handlers.report_jobs import drop_abandoned_drafts

    student = user_factory("drafty")
    await student.bind(demo_class.join_code, "2023555")
    await student.say("/report")
    await student.press("rep:money:no")
    await student.send_file(b"\x89PNG" + b"d" * 500, "half.png")
    draft = await app.store.db.fetchone("SELECT id, status FROM reports")
    assert draft["status"] == "draft"
    evidence = await app.store.reports.evidence(draft["id"])
    path = app.config.evidence_path / evidence[0].path
    assert path.exists()
    clock.advance(days=6)
    assert await drop_abandoned_drafts(app) == 0
    clock.advance(days=2)
    assert await drop_abandoned_drafts(app) == 1
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM reports") == 0
    assert not path.exists()
    await student.say("some words")            # the stale form is gone: free text gets advice, not an error
    assert "出了点问题" not in student.text


async def test_a_form_left_halfway_for_a_check_in_is_offered_again(app, demo_class, user_factory):
    student = user_factory("interrupted")
    await student.bind(demo_class.join_code, "2023556")
    await student.say("/report")
    await student.press("rep:money:no")
    await student.say("有人在闲鱼上卖演唱会门票，收了定金就拉黑了")
    await student.say("/report")                  # again, while still in the form: the current question
    assert "接着填写" in student.text and len(await app.store.db.fetchall("SELECT id FROM reports")) == 1
    await student.say("/quiz")                    # another conversation takes over
    assert "1/" in student.text
    await student.say("/report")
    assert "还没有完成的举报" in student.text
    await student.press_label("接着填写")
    assert "接着填写" in student.text and "发生了什么" not in student.text   # the story is not asked again
    drafts = await app.store.db.fetchall("SELECT id, description FROM reports")
    assert len(drafts) == 1 and drafts[0]["description"].startswith("有人在闲鱼上")
    await student.say("/cancel")
    await student.say("/report")
    await student.press_label("新建举报")
    assert "钱或验证码是否已经给出去" in student.text
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM reports") == 2


async def test_an_unbound_person_files_an_urgent_report_with_a_phone_to_call(app):
    security_channel(app)
    guest = User(app, "stranger-urgent")
    await guest.say("我被骗了5000块怎么办")
    report_now = next(b for b in guest.replies[0].flat_buttons() if b.data.startswith("/report"))
    await guest.press(report_now.data)
    assert app.services.translate("report.guest_intro", "zh") in guest.text
    await guest.say("已经转了")
    assert "R-2026-000001" in guest.text
    assert guest.replies[-1].text == app.services.translate("report.ask_phone", "zh")
    await guest.say("138 0013 8000")
    report = await app.store.reports.get(1)
    assert report["unverified"] == 1 and report["callback_phone"] == "13800138000"
    assert report["reporter_person_id"] is None
    card = (await cards(app))[-1]
    assert app.services.translate("report.card_unverified", "zh", phone="13800138000") in card.text


async def test_an_unbound_person_with_nothing_gone_is_asked_to_bind(app):
    guest = User(app, "stranger-calm")
    await guest.say("/report")
    await guest.say("没有")
    assert guest.text == app.services.translate("report.guest", "zh")


async def test_evidence_text_is_kept_and_a_long_story_is_kept_whole_or_the_cut_said(app, demo_class):
    from handlers.report import MAX_DESCRIPTION

    user = await make_person(app, "2023001", class_id=demo_class.id, college=demo_class.college)
    await user.say("/report")
    await user.say("没有")
    story = "对方自称客服，让我下载软件。" * 600             # 8,400 characters
    await user.say(story)
    assert app.services.translate("report.description_cut", "zh", kept=MAX_DESCRIPTION, total=len(story)) in user.text
    report = await app.store.reports.get(1)
    assert len(report["description"]) == MAX_DESCRIPTION
    for _ in range(8):
        account = await app.store.accounts.find(user.platform, user.key)
        if (await app.store.conversations.get(account.id)).step == "evidence":
            break
        await user.say("跳过")
    await user.say("聊天记录被对方撤回了")
    notes = [e.note for e in await app.store.reports.events(1) if e.action == "evidence_note"]
    assert notes == ["聊天记录被对方撤回了"]


async def test_a_resumed_report_starts_at_the_first_unanswered_step(app, demo_class):
    user = await make_person(app, "2023001", class_id=demo_class.id, college=demo_class.college)
    await user.say("/report")
    await user.say("没有")
    await user.say("有人加我微信让我刷单返利，说先垫付三百块就返佣金")
    await user.press("rep:type:brushing")
    await user.press("rep:when:today")
    await user.say("/quiz")                              # another conversation takes over
    await user.say("/report")
    await user.press_label("接着填写")
    assert user.replies[-1].text == app.services.translate("report.ask_contact", "zh")
