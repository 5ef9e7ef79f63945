"""At start: privileged people bound only by class code are counted, printed, and listed to the office once."""

from __future__ import annotations

import hashlib

from bot.events import text
from bot.roles import PRIVILEGED


async def start(app, http) -> None:
    """The serve starter: print how many must bind again and send the office one notice listing them."""
    people = await app.store.accounts.unproven_privileged(PRIVILEGED)
    if not people:
        return None
    print(f"identity: {len(people)} privileged person(s) bound only by class code keep student rights "
          "until they bind again with an invite, SSO or WeCom (see wuzha roster invite)", flush=True)
    lang = app.config.general.default_language
    lines = [f"{number} {name} ({app.services.translate('role.' + role, lang)})" for number, name, role in people]
    notice = text(app.services.translate("identity.office_unproven", lang, n=len(people), people="\n".join(lines)))
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
    await app.outbox.push_to_security("identity.unproven", notice, f"identity.unproven:{digest}")
    return None
