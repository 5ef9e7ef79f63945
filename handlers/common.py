"""Small helpers shared by handlers: buttons, yes/no, argument parsing."""

from __future__ import annotations

from bot.context import Context
from bot.events import Button


def yes_no_buttons(ctx: Context, prefix: str) -> list[Button]:
    """A 'yes' and a 'no' button whose data ends in :yes / :no."""
    return [Button(ctx.t("common.yes"), f"{prefix}:yes"), Button(ctx.t("common.no"), f"{prefix}:no")]


def button_arg(data: str, prefix: str) -> str:
    """The part of a button's data after its route prefix."""
    return data[len(prefix):] if data.startswith(prefix) else ""


def bullet_list(items) -> str:
    """Items as '• item' lines."""
    return "\n".join(f"• {item}" for item in items)


def numbered_list(items) -> str:
    """Items as '1. item' lines."""
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, 1))
