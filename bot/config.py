"""Load config.toml into typed, validated objects; secrets come from the environment."""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.scheduler import make_trigger
from storage.db import database_for, is_postgres_url


class ConfigError(Exception):
    """A config problem, phrased as one line that names the key."""


@dataclass
class GeneralConfig:
    school_name_zh: str = "示例大学"
    school_name_en: str = "Example University"
    timezone: str = "Asia/Shanghai"
    default_language: str = "zh"
    database: str = "data/wuzha.db"   # a SQLite file, or a postgresql:// URL
    data_dir: str = ""               # files beside the database (spooled media); "" = the SQLite file's folder, or data/
    content_dir: str = ""
    evidence_dir: str = "data/evidence"


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    read_timeout_s: int = 10          # a request body not received within this is cut off (slow clients)
    public_url: str = ""         # how browsers reach this server (console sign-in links); "" = http://host:port


@dataclass
class ScheduleConfig:
    daily_checkin: str = "0 21 * * *"
    weekly_warning: str = "0 19 * * 3"
    weekly_report: str = "0 8 * * 1"
    monitor_reminders: str = "0 18 * * 5"
    campaigns: str = "30 18 * * *"       # the campaign calendar's pushes (content/campaigns.toml)
    quiet_hours: str = "22:30-08:00"


@dataclass
class ProgramConfig:
    checkin_questions: int = 3
    quiz_size: int = 10
    pass_score: int = 80
    green_checkin_days: int = 5
    weekly_activity: str = "case"         # case, drill, or alternate (a drill on even ISO weeks)
    drill_pass_score: int = 60            # a drill passes when it ends safely with this share of flags handled
    drill_nudge_hours: int = 2            # a drill left quiet this long gets one reminder
    contest_questions: int = 10
    contest_seconds: int = 30             # time limit per contest question
    contest_minutes: int = 60             # how long a contest stays open


@dataclass
class TermsConfig:
    # "2026春 2026-02-23..2026-07-10": the school's terms, for /stats 本学期 / 上学期 and the ledger.
    dates: list[str] = field(default_factory=list)

    def parsed(self) -> list[tuple[str, date, date]]:
        """(name, first day, last day) of every configured term, oldest first."""
        out = []
        for entry in self.dates:
            name, _, span = entry.strip().rpartition(" ")
            first, sep, last = span.partition("..")
            if not name.strip() or not sep:
                raise ValueError(f"{entry!r} is not NAME YYYY-MM-DD..YYYY-MM-DD")
            out.append((name.strip(), date.fromisoformat(first), date.fromisoformat(last)))
        return sorted(out, key=lambda term: term[1])


@dataclass
class CurrencyConfig:
    # "USD 7.10": yuan per unit, for losses reported in another currency (stored with their currency too).
    rates: list[str] = field(default_factory=list)

    def table(self) -> dict[str, Decimal]:
        """Currency code → yuan per unit."""
        out = {}
        for entry in self.rates:
            code, _, rate = entry.strip().partition(" ")
            if not re.fullmatch(r"[A-Z]{3}", code):
                raise ValueError(f"{entry!r}: expected a currency code like USD, then its rate")
            try:
                value = Decimal(rate.strip())
            except InvalidOperation as exc:
                raise ValueError(f"{entry!r}: the rate must be a number of yuan, e.g. USD 7.10") from exc
            if not value > 0:
                raise ValueError(f"{entry!r}: the rate must be more than 0")
            out[code] = value
        return out


@dataclass
class EscalationConfig:
    repeat_minutes: int = 15              # after the ladder, page everyone who can acknowledge again this often
    repeat_hours: int = 24                # ... until the case waited this long since its first card


@dataclass
class ReportsConfig:
    max_per_day: int = 5
    urgent_ack_minutes: int = 5
    reescalate_minutes: int = 10
    reescalate_limit: int = 3
    normal_ack_hours: int = 24
    review_threshold_yuan: int = 3000
    campaign_alert_reports: int = 2
    campaign_alert_days: int = 7
    evidence_max_mb: int = 10
    duty_officers: list[str] = field(default_factory=list)
    counselling_zh: str = ""
    counselling_en: str = ""
    legal_aid_zh: str = "法律援助热线：12348"
    legal_aid_en: str = "Legal aid hotline: 12348"


@dataclass
class RolesConfig:
    security: list[str] = field(default_factory=list)
    admin: list[str] = field(default_factory=list)


@dataclass
class OfficeConfig:
    report_weeks: int = 18                # weeks the weekly report picture covers (about a term)
    export_roles: list[str] = field(default_factory=lambda: ["security"])   # who may /export the ledger


@dataclass
class CasConfig:
    server_url: str = ""                  # the school's CAS (统一身份认证), e.g. https://cas.example.edu.cn/cas
    public_url: str = ""                  # CAS's way back to this bot (<it>/sso/callback); "" = server.public_url
    version: int = 3                      # 3: /p3/serviceValidate, 2: /serviceValidate
    timeout_s: int = 10                   # seconds one ticket validation may take


@dataclass
class IdentityConfig:
    class_code: bool = True               # students may bind with class code + number (never privileged roles)
    max_accounts: int = 2                 # chats one person may have bound at once
    invite_days: int = 7                  # how long a personal invite stays valid
    telegram_bot: str = ""                # the bot's username, for t.me deep links in invites
    cas: CasConfig = field(default_factory=CasConfig)


@dataclass
class SecurityChannelConfig:
    targets: list[str] = field(default_factory=lambda: ["console"])


@dataclass
class TelegramConfig:
    enabled: bool = False
    base_url: str = ""
    webhook_url: str = ""
    security_chat_id: int = 0
    paid_broadcast: bool = False


@dataclass
class WechatOAConfig:
    enabled: bool = False
    template_id: str = ""
    reply_budget_ms: int = 4000       # answer the callback with 'success' when the handler takes longer
    api_concurrency: int = 8          # wechatpy calls in flight at once (each runs in a thread)
    callback_window_s: int = 300      # callbacks whose timestamp is further from now are refused
    accept_plaintext: bool = False    # compat mode: take unencrypted callbacks although an AES key is set


@dataclass
class WecomConfig:
    enabled: bool = False
    reply_budget_ms: int = 4000
    api_concurrency: int = 8
    card_url: str = ""                 # where a warning's text card links to; empty: the WeCom home page
    callback_window_s: int = 300       # callbacks whose timestamp is further from now are refused


@dataclass
class ChannelsConfig:
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    wechat_oa: WechatOAConfig = field(default_factory=WechatOAConfig)
    wecom: WecomConfig = field(default_factory=WecomConfig)


@dataclass
class Config:
    general: GeneralConfig = field(default_factory=GeneralConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    program: ProgramConfig = field(default_factory=ProgramConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    roles: RolesConfig = field(default_factory=RolesConfig)
    security_channel: SecurityChannelConfig = field(default_factory=SecurityChannelConfig)
    office: OfficeConfig = field(default_factory=OfficeConfig)
    escalation: EscalationConfig = field(default_factory=EscalationConfig)
    terms: TermsConfig = field(default_factory=TermsConfig)
    currency: CurrencyConfig = field(default_factory=CurrencyConfig)
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    channels: ChannelsConfig = field(default_factory=ChannelsConfig)
    # Filled from the environment, never from the file.
    secrets: dict[str, str] = field(default_factory=dict)
    base_dir: Path = field(default_factory=Path.cwd)

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone."""
        return ZoneInfo(self.general.timezone)

    @property
    def uses_postgres(self) -> bool:
        """Whether the database is a PostgreSQL server (shared by several processes) rather than a SQLite file."""
        return is_postgres_url(self.general.database)

    @property
    def database_target(self) -> Path | str:
        """What to open: the SQLite file resolved against the working directory, or the PostgreSQL URL."""
        return self.general.database if self.uses_postgres else self.database_path

    @property
    def database_path(self) -> Path:
        """The SQLite file, resolved against the working directory."""
        if self.uses_postgres:
            raise ValueError("the database is a PostgreSQL server, not a file")
        return resolve_path(self.general.database, self.base_dir)

    @property
    def data_dir(self) -> Path:
        """Where files beside the database live: general.data_dir, else the SQLite file's folder, else ./data."""
        if self.general.data_dir:
            return resolve_path(self.general.data_dir, self.base_dir)
        if self.uses_postgres:
            return resolve_path("data", self.base_dir)
        return self.database_path.parent

    def describe_database(self) -> str:
        """The database for messages: the file's path, or the URL without its password."""
        if self.uses_postgres:
            return database_for(self.general.database).describe()
        return str(self.database_path)

    @property
    def evidence_path(self) -> Path:
        """Where report evidence files are kept."""
        return resolve_path(self.general.evidence_dir, self.base_dir)

    def content_path(self) -> Path:
        """The content library folder: configured, or the shipped one."""
        if self.general.content_dir:
            return resolve_path(self.general.content_dir, self.base_dir)
        import content

        return Path(content.__file__).parent

    def quiet_hours(self) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """The quiet-hours window as ((h, m), (h, m)), or None when empty."""
        return parse_quiet_hours(self.schedule.quiet_hours)


SECRETS_BY_CHANNEL: dict[str, tuple[str, ...]] = {
    "telegram": ("WUZHA_TELEGRAM_TOKEN",),
    "wechat_oa": ("WUZHA_WECHAT_TOKEN", "WUZHA_WECHAT_APPID", "WUZHA_WECHAT_SECRET"),
    "wecom": (
        "WUZHA_WECOM_TOKEN",
        "WUZHA_WECOM_AES_KEY",
        "WUZHA_WECOM_CORPID",
        "WUZHA_WECOM_SECRET",
        "WUZHA_WECOM_AGENTID",
    ),
}
OPTIONAL_SECRETS = (
    "WUZHA_WECHAT_AES_KEY",
    "WUZHA_TELEGRAM_BASE_URL",
    "WUZHA_TELEGRAM_WEBHOOK_SECRET",
    "WUZHA_WECHAT_API_BASE",
    "WUZHA_WECOM_API_BASE",
    "WUZHA_WECOM_ROBOT_KEY",
)
_QUIET = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def resolve_path(value: str, base_dir: Path) -> Path:
    """Resolve a config path: absolute as is, relative against the working directory."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def parse_quiet_hours(value: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Parse 'HH:MM-HH:MM' into two (hour, minute) pairs; empty means none."""
    if not value.strip():
        return None
    match = _QUIET.match(value.strip())
    if not match:
        raise ValueError("expected HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError("hours 0-23, minutes 0-59")
    return (h1, m1), (h2, m2)


def load_config(
    path: Path | None = None,
    env: typing.Mapping[str, str] | None = None,
    db_override: str | None = None,
    base_dir: Path | None = None,
) -> Config:
    """Read, validate and return the config; raise ConfigError naming the bad key."""
    env = os.environ if env is None else env
    raw: dict = {}
    if path is not None:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config: {path}: file not found") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config: {path}: not valid TOML: {exc}") from exc
    config = _build(Config, raw, "")
    config.base_dir = base_dir or Path.cwd()
    db = db_override or env.get("WUZHA_DB")
    if db:
        config.general.database = db
    _validate(config)
    config.secrets = _collect_secrets(config, env)
    return config


def _build(cls: type, raw: dict, prefix: str):
    """Turn a TOML table into dataclass cls, refusing unknown keys and wrong types."""
    if not isinstance(raw, dict):
        raise ConfigError(f"config: {prefix.rstrip('.')}: expected a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls) if f.name not in ("secrets", "base_dir")}
    for key in raw:
        if key not in known:
            raise ConfigError(f"config: {prefix}{key}: unknown key")
    values = {}
    for name in known:
        if name not in raw:
            continue
        values[name] = _coerce(hints[name], raw[name], f"{prefix}{name}")
    return cls(**values)


def _coerce(hint, value, key: str):
    """Check one value against its declared type."""
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, key + ".")
    origin = typing.get_origin(hint)
    if origin in (list, types.GenericAlias) or hint is list:
        (item,) = typing.get_args(hint) or (str,)
        if not isinstance(value, list):
            raise ConfigError(f"config: {key}: expected a list, got {_kind(value)}")
        return [_coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config: {key}: expected true or false, got {_kind(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config: {key}: expected an integer, got {_kind(value)}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"config: {key}: expected a string, got {_kind(value)}")
        return value
    raise ConfigError(f"config: {key}: unsupported type")  # pragma: no cover


def _kind(value) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


def _validate(config: Config) -> None:
    """Check values that a type alone cannot: zones, cron strings, ranges."""
    try:
        ZoneInfo(config.general.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"config: general.timezone: unknown time zone {config.general.timezone!r}") from exc
    if config.general.default_language not in ("zh", "en"):
        raise ConfigError("config: general.default_language: must be zh or en")
    for f in dataclasses.fields(ScheduleConfig):
        value = getattr(config.schedule, f.name)
        if f.name == "quiet_hours":
            try:
                parse_quiet_hours(value)
            except ValueError as exc:
                raise ConfigError(f"config: schedule.quiet_hours: {exc}") from exc
            continue
        try:
            make_trigger(value, config.general.timezone)
        except ValueError as exc:
            raise ConfigError(f"config: schedule.{f.name}: bad cron expression {value!r}: {exc}") from exc
    ranges = {
        "program.checkin_questions": (config.program.checkin_questions, 1, 3),
        "program.quiz_size": (config.program.quiz_size, 1, 50),
        "program.pass_score": (config.program.pass_score, 1, 100),
        "program.green_checkin_days": (config.program.green_checkin_days, 0, 7),
        "program.drill_pass_score": (config.program.drill_pass_score, 0, 100),
        "program.drill_nudge_hours": (config.program.drill_nudge_hours, 1, 168),
        "program.contest_questions": (config.program.contest_questions, 1, 50),
        "program.contest_seconds": (config.program.contest_seconds, 5, 600),
        "program.contest_minutes": (config.program.contest_minutes, 1, 10080),
        "server.port": (config.server.port, 0, 65535),
        "server.read_timeout_s": (config.server.read_timeout_s, 1, 300),
        "reports.max_per_day": (config.reports.max_per_day, 1, 1000),
        "reports.evidence_max_mb": (config.reports.evidence_max_mb, 1, 100),
        "office.report_weeks": (config.office.report_weeks, 2, 53),
        "identity.max_accounts": (config.identity.max_accounts, 1, 10),
        "identity.invite_days": (config.identity.invite_days, 1, 90),
        "identity.cas.timeout_s": (config.identity.cas.timeout_s, 1, 60),
        "channels.wechat_oa.callback_window_s": (config.channels.wechat_oa.callback_window_s, 30, 3600),
        "channels.wecom.callback_window_s": (config.channels.wecom.callback_window_s, 30, 3600),
    }
    for key, (value, low, high) in ranges.items():
        if not low <= value <= high:
            raise ConfigError(f"config: {key}: must be between {low} and {high}, got {value}")
    # The escalation and review numbers: a zero or negative one would page nobody, or page without end.
    rules = {
        "reports.urgent_ack_minutes": (config.reports.urgent_ack_minutes, 1, 1440, "minutes"),
        "reports.reescalate_minutes": (config.reports.reescalate_minutes, 1, 1440, "minutes"),
        "reports.reescalate_limit": (config.reports.reescalate_limit, 0, 20, "re-escalations"),
        "reports.normal_ack_hours": (config.reports.normal_ack_hours, 1, 720, "hours"),
        "reports.review_threshold_yuan": (config.reports.review_threshold_yuan, 1, 100_000_000, "yuan"),
        "reports.campaign_alert_reports": (config.reports.campaign_alert_reports, 2, 1000, "reports"),
        "reports.campaign_alert_days": (config.reports.campaign_alert_days, 1, 365, "days"),
        "escalation.repeat_minutes": (config.escalation.repeat_minutes, 1, 1440, "minutes"),
        "escalation.repeat_hours": (config.escalation.repeat_hours, 1, 720, "hours"),
    }
    for key, (value, low, high, unit) in rules.items():
        if not low <= value <= high:
            raise ConfigError(f"config: {key}: must be a whole number of {unit} from {low} to {high}, got {value}")
    try:
        config.currency.table()
    except ValueError as exc:
        raise ConfigError(f"config: currency.rates: {exc}") from exc
    try:
        terms = config.terms.parsed()
    except ValueError as exc:
        raise ConfigError(f"config: terms.dates: {exc}") from exc
    for i, (name, first, last) in enumerate(terms):
        if first > last:
            raise ConfigError(f"config: terms.dates: {name} ends before it starts ({first}..{last})")
        if i + 1 < len(terms) and terms[i + 1][1] <= last:
            raise ConfigError(f"config: terms.dates: {name} and {terms[i + 1][0]} overlap; terms must not overlap")
    if config.program.weekly_activity not in ("case", "drill", "alternate"):
        raise ConfigError("config: program.weekly_activity: must be case, drill or alternate")
    cas = config.identity.cas
    if cas.server_url:
        cas.public_url = cas.public_url or config.server.public_url     # one public address unless CAS needs another
        if not cas.public_url:
            raise ConfigError("config: server.public_url: must be set when identity.cas.server_url is set"
                              " (CAS sends browsers back to it); identity.cas.public_url overrides it for CAS only")
        for key in ("server_url", "public_url"):
            if not getattr(cas, key).startswith(("https://", "http://")):
                raise ConfigError(f"config: identity.cas.{key}: must be an http(s) URL when identity.cas.server_url is set")
        if cas.version not in (2, 3):
            raise ConfigError("config: identity.cas.version: must be 2 or 3")
    public_url = config.server.public_url
    if public_url and (not re.match(r"^https?://[^/\s]+(/\S*)?$", public_url) or public_url.endswith("/")):
        raise ConfigError(f"config: server.public_url: must be http(s)://host[/path] without a trailing /, got {public_url!r}")
    allowed_targets = {"console", "telegram", "wecom_robot", "wecom_app"}
    for i, target in enumerate(config.security_channel.targets):
        if target not in allowed_targets:
            raise ConfigError(
                f"config: security_channel.targets[{i}]: unknown target {target!r} "
                f"(one of {', '.join(sorted(allowed_targets))})"
            )


def _collect_secrets(config: Config, env: typing.Mapping[str, str]) -> dict[str, str]:
    """Take the secrets of enabled channels from the environment; a missing one is an error."""
    secrets: dict[str, str] = {}
    for channel, names in SECRETS_BY_CHANNEL.items():
        if not getattr(config.channels, channel).enabled:
            continue
        for name in names:
            if not env.get(name):
                raise ConfigError(
                    f"config: channels.{channel}.enabled: the environment variable {name} is not set"
                )
            secrets[name] = env[name]
    for name in OPTIONAL_SECRETS:
        if env.get(name):
            secrets[name] = env[name]
    return secrets
