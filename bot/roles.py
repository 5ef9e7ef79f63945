"""Roles and who may do what."""

from __future__ import annotations

from storage.records import Person

GUEST = "guest"                       # not bound yet
EVERYONE = frozenset({GUEST, "student", "staff", "monitor", "counsellor", "security", "admin"})
MEMBERS = EVERYONE - {GUEST}          # bound people
CLASS_LEADERS = frozenset({"monitor", "counsellor"})
OFFICE = frozenset({"security"})      # the only role that sees report details
OFFICE_AND_ADMIN = frozenset({"security", "admin"})
CONTEST_STARTERS = CLASS_LEADERS | OFFICE


def effective_role(person: Person | None, config) -> str:
    """The person's role, with config's [roles] lists taking precedence over the roster."""
    if person is None:
        return GUEST
    number = person.person_no or ""
    if number in config.roles.security or str(person.id) in config.roles.security:
        return "security"
    if number in config.roles.admin or str(person.id) in config.roles.admin:
        return "admin"
    return person.role
