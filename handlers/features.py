"""Per-feature start-up work: things built once when the program starts, kept in services.extras."""

from __future__ import annotations


async def setup(services) -> None:
    """Build every feature's start-up state (indexes, caches) once."""
    from bot.library.matcher import build_matcher

    services.extras["matcher"] = build_matcher(services.library)
    from handlers.report_escalation import sweep_unescalated

    await sweep_unescalated(services)   # a case filed just before a crash still reaches the office
