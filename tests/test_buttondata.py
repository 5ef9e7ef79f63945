"""Typed button data: packing, unpacking, refusing the malformed, and every registered codec within 64 bytes."""

from __future__ import annotations

import pytest

from bot.buttondata import MAX_BYTES, ButtonData
from handlers.drill import CHOICE, drills_of_library
from handlers.report_buttons import ASSIGN
from handlers.routes import build_routes


def test_pack_and_unpack_round_trip():
    assert ASSIGN.pack("R-2026-000001") == "rep:assign:R-2026-000001"
    assert ASSIGN.unpack("rep:assign:R-2026-000001:7") == {"case_no": "R-2026-000001", "person": 7}
    assert ASSIGN.unpack("rep:assign:R-2026-000001") == {"case_no": "R-2026-000001"}


@pytest.mark.parametrize("data", ["rep:assign:", "rep:assign:R-1:x", "rep:assign:R-1:1:2", "rep:ack:R-1",
                                  "rep:assign:R-1:99999999999999999"])
def test_malformed_data_unpacks_to_none(data):
    assert ASSIGN.unpack(data) is None


def test_packing_refuses_what_telegram_would():
    wide = ButtonData("x:", (("text", str),))
    with pytest.raises(ValueError):
        wide.pack("a" * MAX_BYTES)
    with pytest.raises(ValueError):
        wide.pack("a:b")


def test_every_registered_codec_fits_and_the_table_checks_it():
    routes = build_routes()
    codecs = [r.codec for r in routes.buttons if r.codec is not None]
    assert len(codecs) >= 8
    for codec in codecs:
        assert len(codec.pack(*codec.widest).encode()) <= MAX_BYTES


def test_every_shipped_drill_choice_packs(app):
    for drill in drills_of_library(app.services.library).values():
        for turn in drill.turns.values():
            assert CHOICE.unpack(CHOICE.pack("abcdef", turn.id, len(turn.choices) - 1))["turn"] == turn.id
