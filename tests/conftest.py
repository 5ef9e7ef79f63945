"""Shared fixtures: a config on a temporary database, an opened App with a fake clock."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.app import App
from bot.clock import FakeClock
from bot.config import load_config
from storage.postgres import scratch_database
from tests import postgres_support
from tests.support import User

ROOT = Path(__file__).resolve().parent.parent


BACKENDS = ["sqlite", "postgresql"] if postgres_support.SERVER_URL else ["sqlite"]


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only(why): the test is about the SQLite file itself")


@pytest.fixture(scope="session")
def postgres_run():
    """This run's migrated PostgreSQL database (made once, dropped at the end), or None without a test server."""
    if not postgres_support.SERVER_URL:
        yield None
        return
    with scratch_database(postgres_support.SERVER_URL, f"wuzha_test_{os.getpid()}") as url:
        run = postgres_support.RunDatabase(url)
        run.migrate()
        yield run


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path, postgres_run):
    """A fresh, empty database: a SQLite file under tmp_path, or (the second run) the emptied PostgreSQL one."""
    if request.param == "sqlite":
        return str(tmp_path / "wuzha.db")
    marker = request.node.get_closest_marker("sqlite_only")
    if marker is not None:
        pytest.skip(f"SQLite only: {marker.args[0] if marker.args else 'about the SQLite file'}")
    return postgres_run.fresh()


@pytest.fixture
def config(tmp_path, database):
    """The shipped config.toml pointed at a fresh database."""
    return load_config(ROOT / "config.toml", env={}, db_override=database, base_dir=tmp_path)


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
