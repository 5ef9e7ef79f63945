"""The scheduler: fire times in local time, replacing jobs by name, one catch-up run after downtime."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import iso
from bot.config import ConfigError, load_config
from bot.scheduler import JobSpec, Scheduler, latest_fire_between, next_fire_time
from tests.conftest import ROOT
from tests.program_support import SHANGHAI, local


def test_daily_checkin_fires_at_21_local(config, clock):
    fire = next_fire_time(config.schedule.daily_checkin, config.tz, clock.now())
    assert fire.astimezone(SHANGHAI) == local(2026, 11, 23, 21, 0)
    after = next_fire_time(config.schedule.daily_checkin, config.tz, fire)
    assert after - fire == timedelta(days=1)


def test_weekly_warning_fires_wednesday_evening(config, clock):
    fire = next_fire_time(config.schedule.weekly_warning, config.tz, clock.now())
    assert fire.astimezone(SHANGHAI) == local(2026, 11, 25, 19, 0)


def test_bad_cron_in_config_is_refused(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[schedule]\ncampaigns = "61 * * * *"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"schedule\.campaigns"):
        load_config(path, env={})


async def test_missed_runs_after_downtime_run_once(app, clock):
    runs = []

    async def job(app_):
        runs.append(app_.clock.now())

    spec = JobSpec("test.daily", lambda config: config.schedule.daily_checkin, job)
    scheduler = Scheduler(app, {spec.name: spec})
    # First start: nothing is "missed" yet.
    assert await scheduler.catch_up() == []
    # Down for three days: three 21:00 ticks passed, the job runs once.
    clock.set(clock.now() + timedelta(days=3))
    assert await scheduler.catch_up() == ["test.daily"]
    assert len(runs) == 1
    assert await scheduler.catch_up() == []
    assert len(runs) == 1


async def test_job_fires_at_the_computed_local_time(app, clock):
    runs = []

    async def job(app_):
        runs.append(app_.clock.now())

    scheduler = Scheduler(app, {"test.j": JobSpec("test.j", "0 21 * * *", job)})
    await scheduler.catch_up()
    fire = next_fire_time("0 21 * * *", app.config.tz, clock.now())
    clock.set(fire)
    assert await scheduler.run_job("test.j")
    assert runs == [fire]
    assert await app.store.kv.get("scheduler:last_run:test.j") == iso(fire)
    # Not due again until tomorrow's tick.
    clock.advance(hours=23)
    assert latest_fire_between("0 21 * * *", app.config.tz, fire, clock.now()) is None


async def test_scheduler_adds_jobs_replacing_by_name(app):
    async def job(app_):
        return None

    scheduler = Scheduler(app, {})
    scheduler.add(JobSpec("x", "0 1 * * *", job))
    scheduler.add(JobSpec("x", "0 2 * * *", job))
    assert [j.id for j in scheduler.aps.get_jobs()] == ["x"]


async def test_serve_starter_registers_program_jobs(app):
    from bot.scheduler import start
    from bot.serve import STARTERS

    assert STARTERS[-1] is start
    jobs = app.jobs()
    for name in ("program.daily_checkin", "program.weekly_warning", "program.campaigns", "inbox.prune"):
        assert name in jobs
    assert ROOT.exists()


def test_weekdays_follow_crontab_not_apscheduler():
    from bot.scheduler import crontab_weekdays

    assert crontab_weekdays("3") == "wed"
    assert crontab_weekdays("0") == crontab_weekdays("7") == "sun"
    assert crontab_weekdays("1-5") == "mon,tue,wed,thu,fri"
    assert crontab_weekdays("*/2") == "sun,tue,thu,sat"
    assert crontab_weekdays("mon") == "mon"
