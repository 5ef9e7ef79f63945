"""Read a roster CSV (UTF-8 with or without BOM, or GBK from Excel) into checked rows."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from storage.people import RosterRow
from storage.records import ROLES, TAGS

# Header names people actually use, in Chinese and English, mapped to our columns.
HEADER_ALIASES = {
    "person_no": ("person id", "person_id", "id", "number", "student number", "学号", "工号", "学号/工号", "编号"),
    "name": ("name", "姓名"),
    "college": ("college", "school", "学院", "院系"),
    "class": ("class", "班级", "class name"),
    "dorm": ("dorm", "dormitory", "宿舍", "寝室"),
    "role": ("role", "身份", "角色"),
    "tags": ("tags", "tag", "标签"),
    "wecom_userid": ("wecom_userid", "wecom userid", "企业微信账号", "企业微信userid", "企业微信 userid"),
}
ROLE_ALIASES = {
    "学生": "student", "教职工": "staff", "教师": "staff", "班长": "monitor", "安全委员": "monitor",
    "辅导员": "counsellor", "counselor": "counsellor", "保卫处": "security", "管理员": "admin",
}
TAG_ALIASES = {"新生": "freshman", "毕业生": "graduate", "留学生": "international", "教职工": "staff"}
_NUMBER = re.compile(r"^[A-Za-z0-9-]{3,20}$")
_LIST_SPLIT = re.compile(r"[;,，；|/、\s]+")


@dataclass
class Rejected:
    """A roster line that was not imported, and why (reason in English; key and values for content/ui)."""

    line: int
    reason: str
    key: str = ""                                        # roster.reject_<key> in content/ui, "" = none
    values: dict = field(default_factory=dict)


def _no(key: str, reason: str, **values) -> tuple[None, Rejected]:
    """A refusal of the line being checked (its number is set by the caller)."""
    return None, Rejected(0, reason, key, values)


def staff_group(college: str) -> str:
    """The join group of a college's (or office's) staff who belong to no class."""
    return f"{college} 教职工 staff"


def decode_roster(raw: bytes) -> str:
    """Decode roster bytes: UTF-8 (BOM or not), else GBK (what Excel writes on Chinese Windows)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def parse_roster(path: Path) -> tuple[list[tuple[int, RosterRow]], list[Rejected]]:
    """Parse and check every line; return the good rows (with line numbers) and the rejected ones."""
    content = decode_roster(Path(path).read_bytes())
    reader = csv.reader(io.StringIO(content))
    try:
        header = next(reader)
    except StopIteration:
        return [], [Rejected(1, "the file is empty", "empty")]
    columns = _map_header(header)
    missing = [c for c in ("person_no", "college", "class") if c not in columns]
    if missing:
        return [], [Rejected(1, f"header has no column for: {', '.join(missing)}", "header",
                             {"columns": ", ".join(missing)})]
    good, rejected = [], []
    seen: dict[str, int] = {}
    seen_userids: dict[str, int] = {}
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        row, why = _check(cells, columns)
        if row is not None and row.person_no in seen:
            row, why = _no("duplicate", f"person id {row.person_no} already on line {seen[row.person_no]}",
                           number=row.person_no, other=seen[row.person_no])
        if row is not None and row.wecom_userid in seen_userids:
            row, why = _no("duplicate_userid",
                           f"wecom_userid {row.wecom_userid} already on line {seen_userids[row.wecom_userid]}",
                           userid=row.wecom_userid, other=seen_userids[row.wecom_userid])
        if row is None:
            rejected.append(replace(why, line=line_no))
            continue
        seen[row.person_no] = line_no
        if row.wecom_userid:
            seen_userids[row.wecom_userid] = line_no
        good.append((line_no, row))
    return good, rejected


def _map_header(header: list[str]) -> dict[str, int]:
    columns = {}
    for index, name in enumerate(header):
        clean = name.strip().lower()
        for column, aliases in HEADER_ALIASES.items():
            if clean in aliases and column not in columns:
                columns[column] = index
    return columns


def _cell(cells: list[str], columns: dict[str, int], column: str) -> str:
    index = columns.get(column)
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _check(cells: list[str], columns: dict[str, int]) -> tuple[RosterRow | None, Rejected | None]:
    number = _cell(cells, columns, "person_no")
    if not number:
        return _no("number_empty", "person id is empty")
    if not _NUMBER.match(number):
        return _no("number_bad", f"person id {number!r} must be 3-20 letters, digits or dashes", number=number)
    college = _cell(cells, columns, "college")
    if not college:
        return _no("college_empty", "college is empty")
    class_names = [c for c in _LIST_SPLIT.split(_cell(cells, columns, "class")) if c]
    raw_role = _cell(cells, columns, "role").lower() or "student"
    role = ROLE_ALIASES.get(raw_role, raw_role)
    if role not in ROLES:
        return _no("role_bad", f"role {raw_role!r} is not one of {', '.join(ROLES)}", role=raw_role,
                   roles=", ".join(ROLES))
    if not class_names and role in ("student", "monitor", "counsellor"):
        return _no("class_empty", "class is empty")
    if not class_names:
        # Staff, officers and admins without a class bind with their department's code, like a class.
        class_names = [staff_group(college)]
    if len(class_names) > 1 and role != "counsellor":
        return _no("classes_many", "only a counsellor may have several classes")
    tags = []
    for tag in (t for t in _LIST_SPLIT.split(_cell(cells, columns, "tags").lower()) if t):
        tag = TAG_ALIASES.get(tag, tag)
        if tag not in TAGS:
            return _no("tag_bad", f"tag {tag!r} is not one of {', '.join(TAGS)}", tag=tag, tags=", ".join(TAGS))
        tags.append(tag)
    if role == "staff" and "staff" not in tags:
        tags.append("staff")
    name = _cell(cells, columns, "name") or None
    dorm = _cell(cells, columns, "dorm") or None
    wecom_userid = _cell(cells, columns, "wecom_userid") or None
    return RosterRow(number, name, college, class_names, dorm, role, tags, wecom_userid), None
