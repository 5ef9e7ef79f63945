"""The one route table: every command, button prefix and conversation the bot answers to."""

from __future__ import annotations

from bot.dispatcher import ButtonRoute, Command, RouteTable, TextRoute
from bot.roles import CLASS_LEADERS, CONTEST_STARTERS, EVERYONE, MEMBERS, OFFICE
from handlers import (
    advice,
    basics,
    campaigns,
    checkin,
    contest,
    drill,
    drill_assign,
    onboarding,
    pledge,
    quiz,
    report,
    report_lookup,
    report_office,
    warning,
)


def build_routes() -> RouteTable:
    """Build the route table (commands in the order /help lists them)."""
    return RouteTable(
        commands=[
            Command("start", onboarding.start_onboarding, EVERYONE, "help.start"),
            Command("help", basics.show_help, EVERYONE, "help.help", aliases=("menu",)),
            Command("me", basics.show_me, MEMBERS, "help.me"),
            Command("lang", onboarding.show_language_menu, EVERYONE, "help.lang", aliases=("language",)),
            Command("cancel", basics.cancel_conversation, EVERYONE, "help.cancel"),
            Command("unbind", onboarding.unbind_account, MEMBERS, "help.unbind"),
            Command("pledge", pledge.show_pledge, MEMBERS, "help.pledge"),
            Command("checkin", checkin.start_checkin, MEMBERS, "help.checkin"),
            Command("quiz", quiz.start_quiz, MEMBERS, "help.quiz"),
            Command("case", warning.show_case, MEMBERS, "help.case"),
            Command("contest", contest.start_contest, CONTEST_STARTERS, "help.contest"),
            Command("letter", campaigns.show_letter, MEMBERS, "help.letter"),
            Command("stop", campaigns.stop_pushes, MEMBERS, "help.stop"),
            Command("resume", campaigns.resume_pushes, MEMBERS, "help.resume"),
            Command("pushes", campaigns.show_pushes, OFFICE, "help.pushes"),
            Command("drill", drill.list_drills, EVERYONE, "help.drill"),
            Command("ask", advice.ask_command, EVERYONE, "help.ask"),
            Command("learn", advice.learn_command, EVERYONE, "help.learn"),
            Command("assign_drill", drill_assign.assign_drill, CLASS_LEADERS | OFFICE, "help.assign_drill"),
            Command("report", report.start_report, EVERYONE, "help.report"),
            Command("myreports", report.list_my_reports, MEMBERS, "help.myreports"),
            Command("check", report_lookup.check_identifier, MEMBERS, "help.check"),
            Command("reports", report_office.list_open_reports, OFFICE, "help.reports"),
            Command("casefile", report_office.show_case, OFFICE, "help.casefile"),
        ],
        buttons=[
            ButtonRoute("lang:", onboarding.choose_language, EVERYONE),
            ButtonRoute("unbind:", onboarding.confirm_unbind, MEMBERS),
            ButtonRoute("pledge:", pledge.sign_pledge, MEMBERS),
            ButtonRoute(checkin.PREFIX, checkin.answer_checkin, MEMBERS),
            ButtonRoute(warning.PREFIX, warning.answer_case, MEMBERS),
            ButtonRoute(quiz.ANSWER, quiz.answer_quiz, MEMBERS),
            ButtonRoute(quiz.REVIEW, quiz.review_quiz, MEMBERS),
            ButtonRoute(contest.NEW, contest.new_contest_button, CONTEST_STARTERS),
            ButtonRoute(contest.JOIN, contest.join_contest, MEMBERS),
            ButtonRoute(contest.ANSWER, contest.answer_contest, MEMBERS),
            ButtonRoute(contest.BOARD, contest.board_button, MEMBERS),
            ButtonRoute(contest.END, contest.end_button, CONTEST_STARTERS),
            ButtonRoute(campaigns.LETTER, campaigns.show_letter, MEMBERS),
            ButtonRoute(drill.BUTTON_PREFIX, drill.press_drill_choice, EVERYONE),
            ButtonRoute(advice.BUTTON_PREFIX, advice.press_advice_button, EVERYONE),
            ButtonRoute("rep:", report.press_form_button, MEMBERS),
            ButtonRoute("rep:ack:", report_office.press_ack, OFFICE),
            ButtonRoute("rep:assign:", report_office.press_assign, OFFICE),
            ButtonRoute("rep:resolve:", report_office.press_resolve, OFFICE),
            ButtonRoute("rep:care:", report_office.press_care, OFFICE),
            ButtonRoute("rep:warn:", report_office.press_warn, OFFICE),
        ],
        text_routes=[
            TextRoute(report_office.COMMAND_PATTERN, report_office.run_text_command, OFFICE),
        ],
        conversations={
            onboarding.CONVERSATION: onboarding.continue_onboarding,
            quiz.CONVERSATION: quiz.continue_quiz,
            contest.CONVERSATION: contest.continue_contest,
            drill.CONVERSATION: drill.continue_drill,
            advice.CONVERSATION: advice.continue_advice,
            report.CONVERSATION: report.continue_report,
        },
        free_text=advice.answer_free_text,
        media=basics.answer_media,
        join=basics.greet_new_contact,
        leave=basics.mark_left,
    )


ROUTES = build_routes()
