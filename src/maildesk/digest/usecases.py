"""Use case, run by the clock: the digests that are due → the outbox, once per period.

For each due digest (schedule.due): skipped when its period row exists (one query for
all of them); else its figures are read (`figures`, which opens its own read
transaction: the store does not nest them), a mail per recipient is rendered
(`write_mail`), and ONE transaction inserts the period row and the outbox rows.

The row's unique key decides between daemons: the insert that loses (PostgreSQL: it
waits for the winner's commit; SQLite: the write lock serialises) queues nothing.  A
digest that fails is logged and left unrecorded, so the next tick tries it again; the
daemon loop goes on (a database that is away fails the tick's first read, and the
loop's supervisor backs off, as for the timers).

The figures and the mail are edges passed in (`Edges`): digest/collect.figures and
digest/render.digest_mail in the daemon.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from maildesk.config import Config
from maildesk.digest import schedule
from maildesk.digest.model import Figures, Period
from maildesk.digest.settings import DIGESTS
from maildesk.domain import Address, OutgoingMail
from maildesk.render import Renderer
from maildesk.store import Store
from maildesk.store import digests as runs
from maildesk.store import outbox as outbox_rows

log = logging.getLogger("maildesk.digest")

FiguresOf = Callable[[Store, Config, Period, str, datetime], Figures]
WriteMail = Callable[[Renderer, Figures, Address, datetime], OutgoingMail]


@dataclass(frozen=True)
class Edges:
    figures: FiguresOf  # (store, cfg, period, group, now)
    write_mail: WriteMail  # (renderer, figures, to, now)


@dataclass(frozen=True)
class SendReport:
    due: int  # digests whose period is due (sent before or not)
    sent: int  # digests this call recorded and queued
    mails: int  # outbox rows written
    failed: int  # raised: logged, tried again at the next tick


def send_due(
    store: Store,
    cfg: Config,
    renderer: Renderer,
    now: datetime,
    *,
    figures: FiguresOf,
    write_mail: WriteMail,
) -> SendReport:
    """Queue every digest that is due and not yet recorded; returns what happened.
    A period that ended before the desk's first mail is not reported: a new desk does
    not greet its managers with last week's nothing."""
    wanted = schedule.due(cfg.section(DIGESTS), cfg.people, now, cfg.tickets.timezone)
    with store.transaction() as tx:  # one short read per tick when nothing is new
        done = runs.recorded(tx, [runs.key(d.period, d.group) for d in wanted])
        started = runs.desk_started(tx) if wanted else None
    wanted = [d for d in wanted if started is not None and started < d.period.end]
    sent = mails = failed = 0
    for item in wanted:
        if runs.key(item.period, item.group) in done:
            continue
        try:
            queued = _send(store, cfg, renderer, now, item, Edges(figures, write_mail))
        except Exception:  # one digest's failure stops neither the others nor the loop
            log.exception("digest %s failed; trying again at the next tick", _name(item))
            failed += 1
            continue
        sent += queued > 0
        mails += queued
    return SendReport(len(wanted), sent, mails, failed)


def _send(
    store: Store, cfg: Config, renderer: Renderer, now: datetime, item: schedule.Due, edges: Edges
) -> int:
    """The mails one digest queued: 0 when another daemon recorded its period first."""
    figures = edges.figures(store, cfg, item.period, item.group, now)
    mails = [edges.write_mail(renderer, figures, to, now) for to in item.recipients]
    with store.transaction() as tx:
        if not runs.record(tx, item.period, item.group, len(mails), now):
            return 0  # another daemon won the period
        for mail in mails:
            outbox_rows.enqueue(tx, mail, None, None, now)
    log.info("digest %s: %s mail(s) queued", _name(item), len(mails))
    return len(mails)


def _name(item: schedule.Due) -> str:
    p = item.period
    return f"{p.kind} {p.first_day} for {f'group {item.group}' if item.group else 'the desk'}"
