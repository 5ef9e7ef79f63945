"""The one route table: every command, button prefix and conversation the bot answers to."""

from __future__ import annotations

from bot.dispatcher import ButtonRoute, Command, RouteTable
from bot.roles import CLASS_LEADERS, EVERYONE, MEMBERS, OFFICE
from handlers import basics, drill, drill_assign, onboarding


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
            Command("drill", drill.list_drills, EVERYONE, "help.drill"),
            Command("assign_drill", drill_assign.assign_drill, CLASS_LEADERS | OFFICE, "help.assign_drill"),
        ],
        buttons=[
            ButtonRoute("lang:", onboarding.choose_language, EVERYONE),
            ButtonRoute("unbind:", onboarding.confirm_unbind, MEMBERS),
            ButtonRoute(drill.BUTTON_PREFIX, drill.press_drill_choice, EVERYONE),
        ],
        conversations={
            onboarding.CONVERSATION: onboarding.continue_onboarding,
            drill.CONVERSATION: drill.continue_drill,
        },
        free_text=basics.answer_unmatched_text,
        media=basics.answer_media,
        join=basics.greet_new_contact,
        leave=basics.mark_left,
    )


ROUTES = build_routes()
