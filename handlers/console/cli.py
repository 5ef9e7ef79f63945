"""`wuzha console link PERSON`: print a one-time sign-in link to the office console for the operator."""

from __future__ import annotations

import sys


def register(sub) -> None:
    """Add `wuzha console link` to the parser."""
    console = sub.add_parser("console", help="the office console (web pages under /console/)")
    console_sub = console.add_subparsers(dest="console_command", required=True)
    link = console_sub.add_parser("link", help="print a one-time sign-in link (10 minutes) for a person")
    link.add_argument("person", help="the person's number (or #id)")
    link.set_defaults(func=cmd_console_link)


async def cmd_console_link(args, config) -> int:
    """Print a sign-in link for a person who has a console role; audited."""
    from bot.cli import opened_app
    from bot.roles import effective_role
    from bot.web.sessions import CONSOLE_ROLES
    from handlers.console.links import issue_link

    async with opened_app(config) as app:
        person = await app.store.people.resolve(args.person)
        if person is None or person.forgotten_at:
            print(f"console: no person {args.person!r}", file=sys.stderr)
            return 1
        role = effective_role(person, config)
        if role not in CONSOLE_ROLES:
            print(f"console: {args.person} is a {role}; the console is for monitors, counsellors, "
                  "the security office and admins", file=sys.stderr)
            return 1
        url = await issue_link(app.services, person.id)
        await app.store.audit.write("console.link", "cli", actor_person_id=person.id, detail={"via": "cli"})
    print(url)
    return 0
