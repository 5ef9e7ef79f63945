"""Office figures at school scale: /stats for the school, /class for one class, the term's XLSX ledger.

Builds (or reuses with --reuse) a database of 30,000 people in 40 colleges and 1,000 classes with a
120-day term of check-ins, awareness tests, pledges, drills, class logs and 2,000 reports (plus last
year's for the comparison), bulk-inserted with executemany, then answers through the real dispatcher.

    .venv/bin/python bench/stats.py [--people 30000] [--db FILE] [--reuse] [--json]

Prints build_s, stats_ms (median of warm /stats, default 30 days), stats_term_ms (/stats over the 120 days),
stats_semester_ms (/stats 本学期, the term configured in config.toml),
class_ms (a monitor's /class), export_s (the term's XLSX ledger) and db_mb.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import App  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.events import Incoming, Kind  # noqa: E402
from handlers.figures import Period  # noqa: E402
from handlers.ledger import export_ledger  # noqa: E402

TODAY = date(2026, 11, 23)
TERM_DAYS = 120
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
TYPES = ["brushing", "fake_service", "loan", "job", "impersonation", "romance", "game_trade", "investment",
         "fake_authority", "two_cards", "fake_shopping", "credit_repair", "sextortion", "other"]
TRIGGERS = ("checkins_count_day", "checkin_days_count_class")


def stamp(day: date, seconds: int) -> str:
    """A stored UTC time on a local day (Shanghai is UTC+8; 12:00 local = 04:00 UTC)."""
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=seconds - 8 * 3600)
    return moment.isoformat(timespec="microseconds")


def build(path: Path, people: int, colleges: int, classes: int, reports: int, seed: int = 7) -> None:
    """Fill the migrated database at path."""
    rnd = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    trigger_sql = [r[0] for r in conn.execute(
        f"SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({','.join('?' * len(TRIGGERS))})",
        TRIGGERS)]
    conn.execute("BEGIN")
    for name in TRIGGERS:     # bulk load: fill the day tables once at the end, as the migration's backfill does
        conn.execute(f"DROP TRIGGER {name}")
    created = stamp(TODAY - timedelta(days=200), 0)
    college_names = [f"第{i + 1:02d}学院" for i in range(colleges)]
    conn.executemany("INSERT INTO classes (id, name, college, join_code, created_at) VALUES (?, ?, ?, ?, ?)",
                     [(c + 1, f"班级{c + 1:04d}", college_names[c % colleges], f"C{c + 1:05d}", created)
                      for c in range(classes)])
    person_rows, account_rows, monitors = [], [], []
    for p in range(1, people + 1):
        class_id = (p - 1) % classes + 1
        role = "monitor" if p <= classes else "student"
        if role == "monitor":
            monitors.append((p, class_id))
        tags = rnd.choice(["", "", "freshman", "graduate", "international"])
        person_rows.append((p, f"2023{p:06d}", f"学生{p}", college_names[(class_id - 1) % colleges], class_id,
                            role, tags, created))
        if rnd.random() < 0.92 or role == "monitor":
            account_rows.append(("bench", f"u{p}", f"u{p}", p, "zh", created, created))
    conn.executemany("INSERT INTO people (id, person_no, name, college, class_id, role, tags, from_roster,"
                     " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)", person_rows)
    conn.executemany("INSERT INTO person_classes (person_id, class_id) VALUES (?, ?)", monitors)
    conn.executemany("INSERT INTO accounts (platform, user_key, chat_key, person_id, language, created_at,"
                     " last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)", account_rows)
    bound = [row[3] for row in account_rows]
    first_day = TODAY - timedelta(days=TERM_DAYS - 1)
    conn.executemany("INSERT INTO pledges (person_id, version, channel, signed_at) VALUES (?, 1, 'bench', ?)",
                     [(p, stamp(first_day + timedelta(days=rnd.randrange(TERM_DAYS)), 40000))
                      for p in bound if rnd.random() < 0.85])

    def checkin_rows():
        for p in bound:
            habit = rnd.random()            # how often this person checks in
            for d in range(TERM_DAYS):
                if rnd.random() < habit:
                    day = first_day + timedelta(days=d)
                    text_day = day.isoformat()
                    at = stamp(day, 75600)
                    for q in range(1 if rnd.random() < 0.6 else 3):
                        yield (p, text_day, f"{TYPES[(p + d + q) % len(TYPES)]}-s{q + 1}", "no", 0, at)
    conn.executemany("INSERT INTO checkins (person_id, day, question_id, answer, risky, answered_at)"
                     " VALUES (?, ?, ?, ?, ?, ?)", checkin_rows())
    conn.execute("INSERT INTO checkin_days (person_id, day) SELECT DISTINCT person_id, day FROM checkins")
    conn.execute("INSERT INTO checkin_daily (day, class_id, college, people) SELECT d.day, p.class_id,"
                 " MAX(p.college), COUNT(*) FROM checkin_days d JOIN people p ON p.id = d.person_id"
                 " GROUP BY d.day, p.class_id")
    for sql in trigger_sql:
        conn.execute(sql)

    quiz_rows = []
    for p in bound:
        for _ in range(rnd.choice([0, 1, 1, 2, 3])):
            day = first_day + timedelta(days=rnd.randrange(TERM_DAYS))
            score = rnd.choice([50, 60, 70, 80, 90, 100])
            quiz_rows.append((p, score // 10, score, int(score >= 80), stamp(day, 50000), stamp(day, 50300)))
    conn.executemany("INSERT INTO quiz_attempts (person_id, kind, questions, total, correct, score, passed,"
                     " started_at, finished_at) VALUES (?, 'awareness', '[]', 10, ?, ?, ?, ?, ?)", quiz_rows)
    conn.executemany("INSERT INTO drill_results (person_id, drill_id, fraud_type, score, passed, ending,"
                     " ended_safely, started_at, finished_at) VALUES (?, ?, ?, ?, ?, 'end', ?, ?, ?)",
                     [(p, t, t, s, int(s >= 60), int(s >= 60), stamp(d, 60000), stamp(d, 60300))
                      for p in rnd.sample(bound, len(bound) // 3)
                      for t, s, d in [(rnd.choice(TYPES[:10]), rnd.choice([40, 60, 80, 100]),
                                       first_day + timedelta(days=rnd.randrange(TERM_DAYS)))]])
    logs = []
    for class_id in range(1, classes + 1):
        for week in range(TERM_DAYS // 7):
            if rnd.random() < 0.8:
                logs.append((class_id, "dorm_talk", (first_day + timedelta(days=7 * week + 2)).isoformat(),
                             "防范电信诈骗", 25, class_id, created))
        for month in range(4):
            logs.append((class_id, "class_meeting", (first_day + timedelta(days=30 * month + 10)).isoformat(),
                         "主题班会", 28, class_id, created))
    conn.executemany("INSERT INTO class_logs (class_id, kind, held_on, topic, attendance, logged_by, created_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)", logs)

    report_rows, event_rows = [], []
    for year_back, count in ((0, reports), (1, int(reports * 1.1))):
        for _i in range(count):
            day = first_day + timedelta(days=rnd.randrange(TERM_DAYS)) - timedelta(days=365 * year_back)
            submitted = stamp(day, rnd.randrange(28800, 79200))
            acked = (datetime.fromisoformat(submitted) + timedelta(minutes=rnd.randrange(1, 240))).isoformat(
                timespec="microseconds")
            p = rnd.randrange(1, people + 1)
            class_id = (p - 1) % classes + 1
            report_id = len(report_rows) + 1
            report_rows.append((report_id, f"R-{day.year}-{report_id:06d}", "resolved", int(rnd.random() < 0.2),
                                rnd.choice(TYPES), rnd.choice([0, 0, 500, 2000, 8000, 30000]),
                                college_names[(class_id - 1) % colleges], class_id, submitted, submitted, submitted,
                                acked, acked))
            for action, at in (("submitted", submitted), ("acknowledged", acked), ("resolved", acked)):
                event_rows.append((report_id, action, at))
    conn.executemany("INSERT INTO reports (id, case_no, status, urgent, fraud_type, amount_yuan, college, class_id,"
                     " created_at, submitted_at, escalated_at, acknowledged_at, resolved_at, form_complete)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                     report_rows)
    conn.executemany("INSERT INTO report_events (report_id, action, at) VALUES (?, ?, ?)", event_rows)
    conn.executemany("INSERT INTO people (person_no, name, college, role, created_at) VALUES (?, ?, '', ?, ?)",
                     [("SEC", "保卫处", "security", created)])
    sec = conn.execute("SELECT id FROM people WHERE person_no = 'SEC'").fetchone()[0]
    conn.execute("INSERT INTO accounts (platform, user_key, chat_key, person_id, language, created_at)"
                 " VALUES ('bench', 'sec', 'sec', ?, 'zh', ?)", (sec, created))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


async def timed(app, user_key: str, body: str, runs: int = 5) -> tuple[float, float, str]:
    """(first, median of the rest) milliseconds of one chat command, and its reply."""
    times, reply = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        replies = await app.handle(Incoming("bench", user_key, user_key, Kind.TEXT, body))
        times.append((time.perf_counter() - start) * 1000)
        reply = replies[0].text
    return times[0], statistics.median(times[1:]), reply


async def measure(db: Path) -> dict:
    """Open the app on the built database and time the three answers."""
    config = load_config(ROOT / "config.toml", env={}, db_override=str(db), base_dir=db.parent)
    app = await App(config, clock=FakeClock(NOW)).open()
    try:
        _, stats_ms, stats_reply = await timed(app, "sec", "/stats")
        term = Period(TODAY - timedelta(days=TERM_DAYS - 1), TODAY)
        _, term_ms, term_reply = await timed(app, "sec", f"/stats {term.label()}")
        _, semester_ms, _ = await timed(app, "sec", "/stats 本学期")      # the configured term in config.toml
        _, class_ms, class_reply = await timed(app, "u1", "/class")
        start = time.perf_counter()
        data, _name = await export_ledger(app.store, config, app.services.library, app.services.translate,
                                          Period(TODAY - timedelta(days=TERM_DAYS - 1), TODAY))
        export_s = time.perf_counter() - start
    finally:
        await app.close()
    assert "📊" in stats_reply and "📊" in term_reply and "📋" in class_reply, (stats_reply, term_reply, class_reply)
    return {"stats_ms": round(stats_ms, 1), "stats_term_ms": round(term_ms, 1),
            "stats_semester_ms": round(semester_ms, 1), "class_ms": round(class_ms, 1),
            "export_s": round(export_s, 2), "export_kb": len(data) // 1024, "stats_reply": stats_reply}


async def prepare(db: Path) -> None:
    """Create and migrate an empty database."""
    config = load_config(ROOT / "config.toml", env={}, db_override=str(db), base_dir=db.parent)
    app = await App(config, clock=FakeClock(NOW)).open()
    await app.close()


def main() -> int:
    """Build (unless reused), measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--colleges", type=int, default=40)
    parser.add_argument("--classes", type=int, default=1_000)
    parser.add_argument("--reports", type=int, default=2_000)
    parser.add_argument("--db", type=Path, default=None, help="database file (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="measure an already built --db")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory() if args.db is None else None
    db = args.db or Path(folder.name) / "bench.db"
    build_s = 0.0
    if not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        start = time.perf_counter()
        asyncio.run(prepare(db))
        build(db, args.people, args.colleges, args.classes, args.reports)
        build_s = time.perf_counter() - start
    figures = asyncio.run(measure(db))
    db_mb = sum(Path(f"{db}{s}").stat().st_size for s in ("", "-wal") if Path(f"{db}{s}").exists()) / 2**20
    rows = sqlite3.connect(db).execute("SELECT (SELECT COUNT(*) FROM checkins), (SELECT COUNT(*) FROM checkin_days),"
                                       " (SELECT COUNT(*) FROM quiz_attempts), (SELECT COUNT(*) FROM reports)"
                                       ).fetchone()
    result = {"build_s": round(build_s, 1), **{k: v for k, v in figures.items() if k != "stats_reply"},
              "db_mb": round(db_mb, 1), "checkin_rows": rows[0], "checkin_days": rows[1], "quiz_attempts": rows[2],
              "reports": rows[3]}
    if args.json:
        print(json.dumps(result))
    else:
        print(figures["stats_reply"])
        print()
        for key, value in result.items():
            print(f"{key:>15}: {value}")
        print("targets: stats_ms, class_ms < 300; export_s < 10; db_mb < 1024")
    if folder is not None:
        folder.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
