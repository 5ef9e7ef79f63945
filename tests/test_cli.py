"""The wuzha command as a newcomer uses it: piped chat, db upgrade, backup, forget, content check, serve."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wuzha(tmp_path: Path, *args: str, stdin: str = "", timeout: int = 120, db: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "WUZHA_DB": db or str(tmp_path / "w.db")}
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=timeout)


def test_piped_chat_binds_to_the_demo_class_in_zh_and_en(tmp_path):
    first = wuzha(tmp_path, "chat", stdin="/start\n")
    code = first.stdout.split("demo class code: ")[1].split()[0]
    result = wuzha(tmp_path, "chat", stdin=f"/start\n2\n{code}\n2024001\n/help\n/lang\n中文\n/help\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[1] 中文   [2] English" in out
    assert "You're linked! Class: 演示班 Demo class, role: student." in out
    assert "Here's what I can do for you:" in out and "我能帮你做这些" in out


def test_db_upgrade_backup_and_forget(tmp_path, database):
    assert wuzha(tmp_path, "db", "upgrade", db=database).returncode == 0
    again = wuzha(tmp_path, "db", "upgrade", db=database)
    assert "applied 0 migration(s)" in again.stdout
    assert "password" not in again.stdout
    roster = tmp_path / "r.csv"
    roster.write_text("学号,学院,班级\n2024009,文学院,中文2401\n", encoding="utf-8")
    assert wuzha(tmp_path, "roster", "import", str(roster), db=database).returncode == 0
    backup = wuzha(tmp_path, "backup", str(tmp_path / "copy.db"), db=database)
    if database.startswith("postgresql"):
        assert backup.returncode == 2 and "pg_dump --format=custom" in backup.stderr
        assert not (tmp_path / "copy.db").exists()
    else:
        assert backup.returncode == 0 and (tmp_path / "copy.db").stat().st_size > 0
    forgot = wuzha(tmp_path, "forget", "2024009", db=database)
    assert forgot.returncode == 0 and "kept, without anything that identifies them" in forgot.stdout
    assert wuzha(tmp_path, "forget", "2024009", db=database).returncode == 1


def test_content_check_passes_on_the_shipped_library_and_names_problems_in_a_broken_one(tmp_path):
    ok = wuzha(tmp_path, "content", "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = tmp_path / "lib"
    shutil.copytree(ROOT / "content", broken, ignore=shutil.ignore_patterns("__pycache__"))
    path = broken / "types" / "brushing.toml"
    data = path.read_text(encoding="utf-8")
    first_quiz_answer = data.index("answer = ", data.index("[[quiz]]"))
    data = data[:first_quiz_answer] + 'answer = "E"' + data[data.index("\n", first_quiz_answer):]
    path.write_text(data, encoding="utf-8")
    (broken / "types" / "loan.toml").unlink()
    (broken / "ui" / "zz_extra.toml").write_text('["x.y"]\nzh = "你好 {name}"\nen = "hi {nome}"\n', encoding="utf-8")
    result = wuzha(tmp_path, "content", "check", str(broken))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("types/brushing.toml: brushing-q") and ": answer: must be one of A, B, C, D" in line
               for line in lines), lines
    assert "types/loan.toml: loan: -: missing: every taxonomy id needs a file" in lines
    assert any(line.startswith("ui/zz_extra.toml: x.y: en: placeholders differ") for line in lines)
    # The bot refuses to start on it, with the same messages.
    config = tmp_path / "c.toml"
    config.write_text(f'[general]\ncontent_dir = "{broken}"\n', encoding="utf-8")
    refused = wuzha(tmp_path, "--config", str(config), "chat", stdin="/help\n")
    assert refused.returncode == 1
    assert "types/loan.toml: loan: -: missing" in refused.stderr


def test_taxonomy_copy_matches_the_shared_contract():
    shared = ROOT.parent / "shared" / "taxonomy.toml"
    ours = tomllib.loads((ROOT / "content" / "taxonomy.toml").read_text(encoding="utf-8"))
    if shared.exists():
        theirs = tomllib.loads(shared.read_text(encoding="utf-8"))
        assert ours == theirs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_health_and_stops_cleanly_on_sigterm(tmp_path):
    port = free_port()
    env = {**os.environ, "WUZHA_DB": str(tmp_path / "w.db")}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    body = response.read().decode()
                    break
            except OSError:
                time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        _, stderr = proc.communicate()
    assert body is not None and '"ok": true' in body, stderr


def test_baseline_import_keeps_good_rows_and_names_each_bad_one(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("学号,学院,班级\n2024009,文学院,中文2401\n", encoding="utf-8")
    assert wuzha(tmp_path, "roster", "import", str(roster)).returncode == 0
    sheet = tmp_path / "baseline.csv"
    sheet.write_text(
        "\ufeff范围,开始日期,结束日期,案件数,损失金额（元）,来源\n"
        "全校,2025-09-01,2026-01-16,12,\"86,500\",派出所通报\n"
        "文学院,2025-09-01,2026-01-16,3,1.2万,派出所通报\n"
        "火星学院,2025-09-01,2026-01-16,1,100,派出所通报\n"
        "全校,2025-13-01,2026-01-16,1,100,\n"
        "全校,2025-09-01,2026-01-16,-2,100,\n"
        "全校,2025-09-01,2026-01-16,2,很多,\n", encoding="utf-8")
    result = wuzha(tmp_path, "baseline", "import", str(sheet))
    assert result.returncode == 1
    out = result.stdout
    assert "line 4: no college '火星学院'" in out and "line 5: dates must look like" in out
    assert "line 6: cases must be a whole number" in out and "line 7: money must be an amount" in out
    assert "baseline: 2 added, 0 replaced, 4 rejected" in out
    assert wuzha(tmp_path, "baseline", "set", "--college", "文学院", "--from", "2025-09-01", "--to", "2026-01-16",
                 "--cases", "4", "--money", "15000", "--source", "派出所更正").returncode == 0
    listed = wuzha(tmp_path, "baseline", "list").stdout
    assert "全校  2025-09-01..2026-01-16  cases 12  money ¥86,500  派出所通报" in listed
    assert "文学院  2025-09-01..2026-01-16  cases 4  money ¥15,000  派出所更正" in listed and "¥12,000" not in listed
    bad = wuzha(tmp_path, "baseline", "set", "--from", "2025-09-01", "--to", "2025-01-01", "--cases", "1",
                "--money", "0")
    assert bad.returncode == 2 and "is after" in bad.stderr
