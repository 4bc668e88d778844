"""[automatic]: what becomes of mailing-list and bulk mail (List-Id, Precedence: bulk,
newsletters) that answers none of our mail.

    [automatic]
    lists = "ignore"   # journaled with the reason, listed by `maildesk ignored`; no ticket
    # lists = "ticket" # a ticket as for a person, never acknowledged

A person's reply to our mail that passes through a list threads either way.  Read it
with `cfg.section(AUTOMATIC)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from maildesk.config import Table, built_from_values, register
from maildesk.config.values import one_of

LIST_POLICIES = ("ignore", "ticket")


@dataclass(frozen=True)
class AutomaticSettings:
    lists: str  # one of LIST_POLICIES


AUTOMATIC = register(
    Table(
        "automatic",
        {"lists": ("ignore", one_of(*LIST_POLICIES))},
        built_from_values(AutomaticSettings),
    )
)
