"""Roster import: good rows saved, bad rows reported with line numbers, BOM and GBK files, re-runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.roster import parse_roster

HEADER = "学号,姓名,学院,班级,宿舍,身份,标签\n"
ROWS = (
    "2023001,张三,计算机学院,计科2301,3-201,学生,新生\n"
    "2023002,,计算机学院,计科2301,,student,freshman;international\n"
    "T001,李老师,计算机学院,计科2301;计科2302,,辅导员,\n"
    "S900,王科长,保卫处,,,security,staff\n"
)
BAD = (
    ",无号,计算机学院,计科2301,,学生,\n"          # line 6: empty id
    "2023003,赵六,,计科2301,,学生,\n"              # line 7: empty college
    "2023004,钱七,计算机学院,计科2301,,wizard,\n"  # line 8: unknown role
    "2023005,孙八,计算机学院,计科2301,,学生,alien\n"  # line 9: unknown tag
    "2023001,重复,计算机学院,计科2301,,学生,\n"     # line 10: duplicate id
)


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--db", str(tmp_path / "w.db"), *args],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )


def test_parse_reports_each_bad_row_with_its_line(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(HEADER + ROWS + BAD, encoding="utf-8")
    good, rejected = parse_roster(path)
    assert [row.person_no for _, row in good] == ["2023001", "2023002", "T001", "S900"]
    assert [(r.line, r.reason.split()[0]) for r in rejected] == [
        (6, "person"), (7, "college"), (8, "role"), (9, "tag"), (10, "person")]
    counsellor = good[2][1]
    assert counsellor.role == "counsellor" and counsellor.class_names == ["计科2301", "计科2302"]
    assert good[1][1].tags == ["freshman", "international"]


def test_bom_and_gbk_files_both_import(tmp_path):
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + (HEADER + ROWS).encode("utf-8"))
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes((HEADER + ROWS).encode("gbk"))
    for path in (bom, gbk):
        good, rejected = parse_roster(path)
        assert not rejected
        assert good[0][1].name == "张三" and good[0][1].college == "计算机学院"


def test_cli_import_is_safe_to_run_again_and_exits_1_on_rejects(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(HEADER + ROWS + BAD, encoding="utf-8")
    first = run_cli(tmp_path, "roster", "import", str(path))
    assert first.returncode == 1
    assert "roster: 4 added, 0 updated, 5 rejected" in first.stdout
    assert f"{path}: line 8: role 'wizard'" in first.stdout
    clean = tmp_path / "clean.csv"
    clean.write_text(HEADER + ROWS.replace("张三", "张叁"), encoding="utf-8")
    second = run_cli(tmp_path, "roster", "import", str(clean))
    assert second.returncode == 0
    assert "roster: 0 added, 4 updated, 0 rejected" in second.stdout
    codes = run_cli(tmp_path, "roster", "codes", "--csv", str(tmp_path / "codes.csv"))
    assert codes.returncode == 0 and "计科2301" in codes.stdout and "计科2302" in codes.stdout
    assert "班级码" in (tmp_path / "codes.csv").read_text(encoding="utf-8-sig")


def test_large_file_shows_progress(tmp_path):
    lines = [HEADER] + [f"{3000000 + i},,工学院,工{i % 20},,学生,\n" for i in range(1200)]
    path = tmp_path / "big.csv"
    path.write_text("".join(lines), encoding="utf-8")
    result = run_cli(tmp_path, "roster", "import", str(path))
    assert result.returncode == 0, result.stderr
    assert "1200/1200" in result.stderr
    assert "roster: 1200 added" in result.stdout


async def test_staff_without_a_class_bind_with_their_departments_code(app, tmp_path, user_factory):
    path = tmp_path / "staff.csv"
    path.write_text(HEADER + "S900,王科长,保卫处,,,security,\nT500,刘老师,文学院,,,教职工,\n", encoding="utf-8")
    good, rejected = parse_roster(path)
    assert not rejected
    await app.store.people.upsert_roster([row for _, row in good])
    office = await app.store.classes.by_name("保卫处 教职工 staff")
    assert office is not None and await app.store.classes.by_name("文学院 教职工 staff") is not None
    officer = user_factory("officer")
    await officer.bind(office.join_code, "S900", name="王科长")
    assert "保卫处 教职工 staff" in officer.text and "身份：学生" in officer.text   # a code proves no officer
    assert "个人邀请码" in officer.text
    await officer.bind_invited("S900")
    assert "身份：保卫处" in officer.text
    person = await app.store.people.by_number("S900")
    assert person.role == "security" and person.tag_set == set()
