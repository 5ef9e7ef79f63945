"""The key under which the HTTP server's handlers find the running App (a module of its own: no import cycle)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.app import App

APP_KEY: web.AppKey[App] = web.AppKey("wuzha")
