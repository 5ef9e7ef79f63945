"""The button data of a case card: the office's actions on one case, each a typed codec."""

from __future__ import annotations

from bot.buttondata import ButtonData

WIDEST_CASE = "R-2026-999999"
ACK = ButtonData("rep:ack:", (("case_no", str),), widest=(WIDEST_CASE,))
ASSIGN = ButtonData("rep:assign:", (("case_no", str), ("person", int)), optional=1,
                    widest=(WIDEST_CASE, 10 ** 12 - 1))
RESOLVE_CASE = ButtonData("rep:resolve:", (("case_no", str), ("how", str)), optional=1,
                          widest=(WIDEST_CASE, "nonote"))
CARE = ButtonData("rep:care:", (("case_no", str),), widest=(WIDEST_CASE,))
SEND_WARNING = ButtonData("rep:warn:", (("alert", int),), widest=(10 ** 12 - 1,))
