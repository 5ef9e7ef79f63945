"""Roles and who may do what."""

from __future__ import annotations

from storage.records import Account, Person

GUEST = "guest"                       # not bound yet
EVERYONE = frozenset({GUEST, "student", "staff", "monitor", "counsellor", "security", "admin"})
MEMBERS = EVERYONE - {GUEST}          # bound people
CLASS_LEADERS = frozenset({"monitor", "counsellor"})
OFFICE = frozenset({"security"})      # the only role that sees report details
OFFICE_AND_ADMIN = frozenset({"security", "admin"})
CONTEST_STARTERS = CLASS_LEADERS | OFFICE
PRIVILEGED = ("monitor", "counsellor", "security", "admin")
# A class code is shared by the whole class: a binding made with it proves nothing a classmate does not know.
WEAK_PROOF = frozenset({"code"})


def effective_role(person: Person | None, config, account: Account | None = None, proof: str | None = None) -> str:
    """The person's role, with config's [roles] lists taking precedence over the roster.

    Through an account bound only by class code (account.proof, or proof given alone) a privileged
    person has student rights.
    """
    if person is None:
        return GUEST
    number = person.person_no or ""
    if number in config.roles.security or str(person.id) in config.roles.security:
        role = "security"
    elif number in config.roles.admin or str(person.id) in config.roles.admin:
        role = "admin"
    else:
        role = person.role
    if role in PRIVILEGED and (account.proof if account is not None else proof) in WEAK_PROOF:
        return "student"
    return role


def role_unproven(person: Person | None, config, account: Account | None) -> bool:
    """Whether the person holds a privileged role this account has not proven."""
    return person is not None and effective_role(person, config) in PRIVILEGED and \
        effective_role(person, config, account) not in PRIVILEGED
