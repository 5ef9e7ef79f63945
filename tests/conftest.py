"""Shared fixtures: a config on a temporary database, an opened App with a fake clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import App
from bot.clock import FakeClock
from bot.config import load_config
from tests.support import User

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def config(tmp_path):
    """The shipped config.toml pointed at a temporary database."""
    return load_config(ROOT / "config.toml", env={}, db_override=str(tmp_path / "wuzha.db"), base_dir=tmp_path)


@pytest.fixture
def clock():
    """A clock frozen at 2026-11-23 12:00 Asia/Shanghai (a Monday)."""
    return FakeClock()


@pytest.fixture
async def app(config, clock):
    """An opened App on an empty database."""
    application = await App(config, clock=clock).open()
    yield application
    await application.close()


@pytest.fixture
async def demo_class(app):
    """A class (without roster) and its join code."""
    class_id = await app.store.classes.ensure("计科2301", "计算机学院")
    return await app.store.classes.get(class_id)


@pytest.fixture
def user_factory(app):
    """Make chat users: user_factory('alice') -> User."""
    def make(key: str, **kwargs) -> User:
        return User(app, key, **kwargs)
    return make


@pytest.fixture
async def fake_api():
    """The fake WeChat / WeCom API server on 127.0.0.1."""
    from tests.fakes.wechat_api import FakeWechatApi

    api = await FakeWechatApi().start()
    yield api
    await api.stop()
