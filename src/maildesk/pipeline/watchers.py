"""Who in Cc may follow a ticket.  Pure.

Colleagues in Cc become watchers: they receive the engineers' replies.  Only
addresses of the organisation's own domains (`security.internal_domains`, by default
the support address's domain) or an explicit allow list (`security.allowed_watchers`,
addresses or `@domain`) qualify, at most `security.max_watchers` per ticket; the desk's
people follow tickets by role, never as watchers; our own addresses never do.  One
mail with 2,000 addresses in Cc makes at most `max_watchers` watchers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from maildesk.config import Config
from maildesk.domain import Address
from maildesk.vocab import Reason, reason


@dataclass(frozen=True)
class Verdict:
    accepted: tuple[Address, ...]
    refused: tuple[tuple[Address, Reason], ...]


def judge(cc: Iterable[Address], cfg: Config, known: set[str], current: int) -> Verdict:
    """`known`: addresses already on the ticket; `current`: its watchers so far."""
    accepted: dict[str, Address] = {}
    refused: dict[str, tuple[Address, Reason]] = {}
    for addr in cc:
        email = addr.email.lower()
        if email in known or email in accepted or email in refused or ours(email, cfg):
            continue
        why = _refusal(email, cfg, current + len(accepted))
        if why is None:
            accepted[email] = Address(addr.name, email)
        else:
            refused[email] = (Address(addr.name, email), why)
    return Verdict(tuple(accepted.values()), tuple(refused.values()))


def _refusal(email: str, cfg: Config, count: int) -> Reason | None:
    if cfg.person(email) is not None:
        return reason("watcher_staff", address=email)
    if not internal(email, cfg):
        return reason("watcher_external", address=email)
    if count >= cfg.security.max_watchers:
        return reason("watcher_limit", address=email, limit=str(cfg.security.max_watchers))
    return None


def internal(email: str, cfg: Config) -> bool:
    domain = email.rpartition("@")[2]
    allowed = cfg.security.allowed_watchers
    if email in allowed or f"@{domain}" in allowed:
        return True
    domains = cfg.security.internal_domains or (cfg.support_address.rpartition("@")[2].lower(),)
    return any(domain == d or domain.endswith("." + d) for d in domains)


def ours(email: str, cfg: Config) -> bool:
    """An own address, or a plus-address of one (support+IT-…@)."""
    local, _, domain = email.partition("@")
    return f"{local.split('+')[0]}@{domain}" in cfg.all_own_addresses
