"""The folder rules a test can hold (DESIGN.md "Shape"): each folder keeps one rule.

- handlers/ and storage/ never import a platform library; only bot/channels/ does;
- storage/ imports nothing from bot/ or handlers/ and is the only place with the database driver;
- bot/ imports handlers/ only from its composition root (bot/app.py);
- feature code lives in handlers/, not bot/;
- no import cycles between our modules; one route table, built once by the composition root;
- jobs, CLI subcommands, serve starters and library sections are wired by real imports, never by
  module-name strings (importlib), and every feature's jobs reach the scheduler.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_LIBRARIES = {"telegram", "wechatpy"}
DRIVERS = {"sqlite3", "aiosqlite", "asyncpg", "psycopg"}
PACKAGES = ("bot", "handlers", "storage")
# Where the engine wires the features in: the chat's route table and the office console's pages.
COMPOSITION_ROOTS = ("bot.app", "bot.web.console")
# Feature code that once lived in the engine folder and must not come back.
FEATURES_IN_BOT = ("identifiers", "amounts", "figures", "ledger", "weekly_report", "office_cli")


def imported_modules(path: Path) -> set[str]:
    """Top-level package names a file imports anywhere (function bodies included)."""
    return {name.split(".")[0] for name in imported_names(path, top_level_only=False)}


def imported_names(path: Path, top_level_only: bool = True) -> set[str]:
    """Full module names a file imports; top_level_only skips imports inside functions and TYPE_CHECKING."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = _top_level(tree.body) if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements run at import time (descending into if/try, not into functions or TYPE_CHECKING)."""
    out: list[ast.stmt] = []
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.If, ast.Try)):
            out += _top_level(node.body) + _top_level(getattr(node, "orelse", []))
            for handler in getattr(node, "handlers", []):
                out += _top_level(handler.body)
            continue
        out.append(node)
    return out


def module_name(path: Path) -> str:
    """'bot/channels/console.py' → 'bot.channels.console'."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_files(*folders: str) -> list[Path]:
    """Every Python file of the given folders."""
    return [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]


def test_handlers_never_import_a_platform_library():
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & PLATFORM_LIBRARIES)
        for path in our_files("handlers")
        if imported_modules(path) & PLATFORM_LIBRARIES
    }
    assert offenders == {}


def test_only_channels_import_platform_libraries():
    allowed = ROOT / "bot" / "channels"
    offenders = [str(p.relative_to(ROOT)) for p in our_files(*PACKAGES)
                 if allowed not in p.parents and imported_modules(p) & PLATFORM_LIBRARIES]
    assert offenders == []


def test_storage_imports_nothing_from_bot_or_handlers():
    offenders = {str(p.relative_to(ROOT)): sorted(imported_modules(p) & {"bot", "handlers"})
                 for p in our_files("storage") if imported_modules(p) & {"bot", "handlers"}}
    assert offenders == {}


def test_only_storage_talks_to_the_database_driver():
    offenders = [str(p.relative_to(ROOT)) for p in our_files("bot", "handlers")
                 if imported_modules(p) & DRIVERS]
    assert offenders == []


def test_bot_imports_handlers_only_from_the_composition_root():
    offenders = [module_name(p) for p in our_files("bot")
                 if "handlers" in imported_modules(p) and module_name(p) not in COMPOSITION_ROOTS]
    assert offenders == []


def test_feature_code_lives_in_handlers():
    assert [name for name in FEATURES_IN_BOT if (ROOT / "bot" / f"{name}.py").exists()] == []


def test_no_import_cycles():
    files = {module_name(p): p for p in our_files(*PACKAGES)}
    graph = {}
    for name, path in files.items():
        graph[name] = {m for m in imported_names(path) if m in files and m != name}
    cycle = _find_cycle(graph)
    assert cycle is None, " → ".join(cycle or [])


def test_one_route_table_built_by_the_composition_root():
    builders = []
    for path in our_files(*PACKAGES):
        for node in _top_level(ast.parse(path.read_text(encoding="utf-8")).body):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and "build_routes(" in ast.unparse(node):
                builders.append(module_name(path))
    assert builders == []          # no module-level copy; bot/app.py builds it for its dispatcher


def imports_by_string(path: Path) -> list[str]:
    """Calls that import a module named by a string (importlib.import_module, __import__) in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__"):
                found.append(f"line {node.lineno}: {ast.unparse(node)[:60]}")
    return found


def test_registration_is_by_real_imports_not_module_name_strings():
    offenders = {str(p.relative_to(ROOT)): found for p in our_files(*PACKAGES) if (found := imports_by_string(p))}
    assert offenders == {}


def test_every_features_jobs_reach_the_scheduler():
    from bot.app import JOBS

    wired = {job.name for job in JOBS}
    for path in our_files("handlers"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "JOBS" for t in n.targets) for n in tree.body):
            module = importlib.import_module(module_name(path))
            assert {job.name for job in module.JOBS} <= wired, module_name(path)


# Repository methods that still hand out driver rows (row["column"]), to be converted to records; the list
# only shrinks: a new method returning rows fails the test below.
ROW_LEAKS = {
    "audit.py": {"AuditRepo.recent"},
    "console.py": {"ConsoleRepo.audit", "ConsoleRepo.evidence_item", "ConsoleRepo.session"},
    "office.py": {"OfficeRepo.campaign_warnings_between", "OfficeRepo.contests_between", "OfficeRepo.logs_between",
                  "OfficeRepo.reminders_between", "OfficeRepo.reports_between", "OfficeRepo.warning",
                  "OfficeRepo.warnings_between", "OfficeRepo.weekly_warnings_between"},
    "outbox.py": {"OutboxRepo.latest_dead"},
    "reports.py": {"ReportRepo.by_case_no", "ReportRepo.campaign_alert", "ReportRepo.cluster",
                   "ReportRepo.due_for_reescalation", "ReportRepo.for_person", "ReportRepo.get", "ReportRepo.lookup",
                   "ReportRepo.lookup_site", "ReportRepo.open_cases", "ReportRepo.recent_urgent_case",
                   "ReportRepo.reviews_between", "ReportRepo.reviews_open",
                   "ReportRepo.unescalated", "ReportRepo.unfinished_form"},
}
_FETCH = {"fetchone", "fetchall"}
ENGINES = {"db.py", "sqlite.py", "postgres.py"}   # the database engines: fetching rows is their job


def row_leaks(path: Path) -> set[str]:
    """Repository methods of a storage file that return what the driver fetched (a row or a list of rows)."""
    def fetch(node) -> bool:
        return (isinstance(node, ast.Await) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "attr", "") in _FETCH)

    found = set()
    for cls in (n for n in ast.parse(path.read_text(encoding="utf-8")).body if isinstance(n, ast.ClassDef)):
        for method in (n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            fetched = {t.id for n in ast.walk(method) if isinstance(n, ast.Assign) and fetch(n.value)
                       for t in n.targets if isinstance(t, ast.Name)}
            for node in ast.walk(method):
                if isinstance(node, ast.Return) and node.value is not None and (
                        fetch(node.value) or (isinstance(node.value, ast.Name) and node.value.id in fetched)):
                    found.add(f"{cls.name}.{method.name}")
    return found


def test_repositories_return_records_not_driver_rows():
    grown = {p.name: sorted(leaks - ROW_LEAKS.get(p.name, set()))
             for p in our_files("storage") if p.name not in ENGINES and (leaks := row_leaks(p)) - ROW_LEAKS.get(p.name, set())}
    assert grown == {}, "return records (storage/records.py), not rows"
    found = {p.name: row_leaks(p) for p in our_files("storage")}
    converted = {name: sorted(listed - found.get(name, set())) for name, listed in ROW_LEAKS.items()
                 if listed - found.get(name, set())}
    assert converted == {}, "converted: take them off ROW_LEAKS"


def test_nothing_outside_storage_names_the_driver_row():
    offenders = [str(p.relative_to(ROOT)) for p in our_files("bot", "handlers")
                 if "sqlite3" in p.read_text(encoding="utf-8")]
    assert offenders == []


SQL_STATEMENT = re.compile(r"^\s*(SELECT .+ FROM|INSERT (OR \w+ )?INTO|UPDATE \w+ SET|DELETE FROM|CREATE (TABLE|INDEX)"
                           r"|ALTER TABLE|DROP (TABLE|INDEX)|PRAGMA \w+)", re.DOTALL)


def sql_strings(path: Path) -> list[str]:
    """String constants in a file that read as SQL statements."""
    return [node.value[:40] for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_STATEMENT.match(node.value)]


def test_all_sql_lives_in_storage():
    offenders = {str(p.relative_to(ROOT)): found for p in our_files("bot", "handlers") if (found := sql_strings(p))}
    assert offenders == {}


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path of module names, or None (depth-first, colouring)."""
    colour: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if colour.get(nxt) is None and (found := visit(nxt)):
                return found
        stack.pop()
        colour[node] = 2
        return None

    for start in sorted(graph):
        if colour.get(start) is None and (found := visit(start)):
            return found
    return None


def test_the_checks_themselves_catch_an_import_and_a_cycle(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from telegram import Update\nimport wechatpy.enterprise\n", encoding="utf-8")
    assert imported_modules(bad) & PLATFORM_LIBRARIES == {"telegram", "wechatpy"}
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None
    registry = tmp_path / "registry.py"
    registry.write_text("import importlib\nfor m in ['a.b']:\n    importlib.import_module(m).register()\n",
                        encoding="utf-8")
    assert imports_by_string(registry) == ["line 3: importlib.import_module(m)"]
    repo = tmp_path / "repo.py"
    repo.write_text("class R:\n    async def a(self):\n        return await self.db.fetchone('x')\n"
                    "    async def b(self):\n        rows = await self.db.fetchall('x')\n        return rows\n"
                    "    async def c(self):\n        row = await self.db.fetchone('x')\n        return R(row[0])\n",
                    encoding="utf-8")
    assert row_leaks(repo) == {"R.a", "R.b"}
