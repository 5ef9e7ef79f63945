"""Per-feature start-up work: things built once when the program starts, kept in services.extras."""

from __future__ import annotations


async def setup(services) -> None:
    """Build every feature's start-up state (indexes, caches) once."""
    from bot.library.matcher import build_matcher

    # The library is read-only and cached per process, so its matcher index is built once with it.
    if "_matcher" not in services.library.extra:
        services.library.extra["_matcher"] = build_matcher(services.library)
    services.extras["matcher"] = services.library.extra["_matcher"]
    from handlers.report_escalation import sweep_unescalated

    await sweep_unescalated(services)   # a case filed just before a crash still reaches the office
