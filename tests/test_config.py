"""Config: defaults load; each kind of error stops with one line naming the key, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_shipped_config_loads_with_defaults(tmp_path):
    config = load_config(ROOT / "config.toml", env={}, base_dir=tmp_path)
    assert config.general.timezone == "Asia/Shanghai"
    assert config.general.default_language == "zh"
    assert config.database_path == tmp_path / "data" / "wuzha.db"
    assert not config.channels.telegram.enabled and not config.channels.wechat_oa.enabled
    assert config.quiet_hours() == ((22, 30), (8, 0))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[general]\ncolour = 'red'\n", "config: general.colour: unknown key"),
        ("[nonsense]\n", "config: nonsense: unknown key"),
        ("[server]\nport = 'eighty'\n", "config: server.port: expected an integer, got a string"),
        ("[channels.telegram]\nenabled = 'yes'\n", "config: channels.telegram.enabled: expected true or false"),
        ("[roles]\nsecurity = 'P1'\n", "config: roles.security: expected a list"),
        ("[schedule]\ndaily_checkin = '0 25 * * *'\n", "config: schedule.daily_checkin: bad cron expression"),
        ("[schedule]\nquiet_hours = 'late'\n", "config: schedule.quiet_hours: expected HH:MM-HH:MM"),
        ("[general]\ntimezone = 'Mars/Olympus'\n", "config: general.timezone: unknown time zone"),
        ("[program]\npass_score = 0\n", "config: program.pass_score: must be between 1 and 100"),
        ("[channels.telegram]\nenabled = true\n",
         "config: channels.telegram.enabled: the environment variable WUZHA_TELEGRAM_TOKEN is not set"),
        ("[channels.wecom]\nenabled = true\n", "config: channels.wecom.enabled: the environment variable WUZHA_WECOM"),
        ("[security_channel]\ntargets = ['pigeon']\n", "config: security_channel.targets[0]: unknown target"),
        ("not toml at all = = =", "not valid TOML"),
        ("[reports]\nurgent_ack_minutes = 0\n",
         "config: reports.urgent_ack_minutes: must be a whole number of minutes from 1 to 1440, got 0"),
        ("[reports]\nreescalate_minutes = -5\n", "config: reports.reescalate_minutes: must be a whole number of minutes"),
        ("[reports]\nreescalate_limit = -1\n", "config: reports.reescalate_limit: must be a whole number of re-escalations from 0"),
        ("[reports]\nreview_threshold_yuan = 0\n", "config: reports.review_threshold_yuan: must be a whole number of yuan from 1"),
        ("[escalation]\nrepeat_minutes = 0\n", "config: escalation.repeat_minutes: must be a whole number of minutes"),
        ("[escalation]\nrepeat_hours = 0\n", "config: escalation.repeat_hours: must be a whole number of hours"),
        ("[currency]\nrates = ['USD seven']\n", "config: currency.rates: 'USD seven': the rate must be a number"),
        ("[currency]\nrates = ['USD 0']\n", "config: currency.rates: 'USD 0': the rate must be more than 0"),
        ("[terms]\ndates = ['2026春 2026-02-23..2026-07-10', '2026夏 2026-07-01..2026-08-01']\n",
         "config: terms.dates: 2026春 and 2026夏 overlap"),
        ("[terms]\ndates = ['spring']\n", "config: terms.dates: 'spring' is not NAME YYYY-MM-DD..YYYY-MM-DD"),
    ],
)
def test_each_error_names_the_key(tmp_path, body, message):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, body), env={})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_secret_comes_from_environment(tmp_path):
    path = write(tmp_path, "[channels.telegram]\nenabled = true\n")
    config = load_config(path, env={"WUZHA_TELEGRAM_TOKEN": "123:abc"})
    assert config.secrets["WUZHA_TELEGRAM_TOKEN"] == "123:abc"


def test_database_override_order(tmp_path):
    path = write(tmp_path, "[general]\ndatabase = 'a.db'\n")
    assert load_config(path, env={}, base_dir=tmp_path).database_path == tmp_path / "a.db"
    assert load_config(path, env={"WUZHA_DB": "b.db"}, base_dir=tmp_path).database_path == tmp_path / "b.db"
    config = load_config(path, env={"WUZHA_DB": "b.db"}, db_override="/x/c.db", base_dir=tmp_path)
    assert config.database_path == Path("/x/c.db")


def test_cli_exits_2_with_one_line(tmp_path):
    path = write(tmp_path, "[server]\nport = 'eighty'\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(path), "db", "upgrade"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "config: server.port: expected an integer, got a string"
