"""One object that holds every repository over one database."""

from __future__ import annotations

from storage.accounts import AccountRepo
from storage.audit import AuditRepo, KeyValueRepo
from storage.baselines import BaselineRepo
from storage.classes import ClassRepo
from storage.console import ConsoleRepo
from storage.conversations import ChoiceRepo, ConversationRepo
from storage.db import Database
from storage.drills import DrillRepo
from storage.inbox import InboxRepo
from storage.invites import InviteRepo
from storage.office import OfficeRepo
from storage.outbox import OutboxRepo
from storage.people import PeopleRepo
from storage.program import AudienceRepo, CheckinRepo, ContestRepo, PledgeRepo, QuizRepo, WarningRepo
from storage.reports import ReportRepo
from storage.sso_links import SsoLinkRepo
from storage.stats import StatsRepo
from storage.telegram import TelegramRepo
from storage.wechat import WechatRepo


class Store:
    """The repositories, sharing one Database and one clock."""

    def __init__(self, db: Database, clock) -> None:
        self.db = db
        self.clock = clock
        self.classes = ClassRepo(db, clock)
        self.people = PeopleRepo(db, clock, self.classes)
        self.accounts = AccountRepo(db, clock)
        self.invites = InviteRepo(db, clock)
        self.sso_links = SsoLinkRepo(db, clock)
        self.conversations = ConversationRepo(db, clock)
        self.choices = ChoiceRepo(db, clock)
        self.pledges = PledgeRepo(db, clock)
        self.checkins = CheckinRepo(db, clock)
        self.quizzes = QuizRepo(db, clock)
        self.warnings = WarningRepo(db, clock)
        self.contests = ContestRepo(db, clock)
        self.audience = AudienceRepo(db, clock)
        self.reports = ReportRepo(db, clock)
        self.outbox = OutboxRepo(db, clock)
        self.audit = AuditRepo(db, clock)
        self.kv = KeyValueRepo(db, clock)
        self.telegram = TelegramRepo(db, clock)
        self.wechat = WechatRepo(db, clock)
        self.drills = DrillRepo(db, clock)
        self.office = OfficeRepo(db, clock)
        self.stats = StatsRepo(db, clock)
        self.inbox = InboxRepo(db, clock)
        self.baselines = BaselineRepo(db, clock)
        self.console = ConsoleRepo(db, clock)
