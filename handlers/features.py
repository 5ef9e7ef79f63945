"""Per-feature start-up work: things built once when the program starts, kept in services.extras."""

from __future__ import annotations


async def setup(services) -> None:
    """Build every feature's start-up state (indexes, caches) once."""
    del services  # each feature adds its line here, e.g. the matcher's index
