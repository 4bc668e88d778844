"""Timers, exactly once: what the clock owes a ticket.

Every timed thing (today the auto-close of resolved tickets; later reminders,
escalation steps, progress notes, surveys) is a row of the `timers` table keyed
(ticket, kind, step) with a due time (store/timers.py).  The daemon's tick
(`tick.run`) claims due rows with a lease, runs the kind's pure handler and applies
what it returns in one transaction: status change, event, mails into the outbox with
Message-IDs derived from the key, timers scheduled or cancelled, the row marked done.

Adding a kind: a `TimerKind` member, one row of `kinds.KINDS` (handler, the states it
lives in, the states that start it and when it is first due, working time or not), a
pure handler `(ticket, timer, now, cfg) -> Result` and, when it mails, a MailKind with
its templates.
"""
