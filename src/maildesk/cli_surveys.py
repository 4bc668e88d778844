"""`maildesk surveys list [--json]`: satisfaction answers, latest first, with their
comments and the reviews low scores opened (open, due when; closed, by whom)."""

from __future__ import annotations

import argparse
from typing import Any

from maildesk.cli import Columns, load_config, open_read_store, print_rows
from maildesk.store import surveys
from maildesk.survey.answers import LABELS
from maildesk.vocab import local_time


def add_surveys(sub: Any) -> None:
    parser = sub.add_parser("surveys", help="satisfaction answers and the reviews they opened")
    ssub = parser.add_subparsers(dest="surveys_command", required=True, metavar="ACTION")
    listing = ssub.add_parser(
        "list",
        help="answers, latest first: score, comment, review",
        description="Satisfaction answers, latest first. A later answer on a ticket replaces "
        "the earlier one (marked replaced). A score of 2 or less opens a review, closed by "
        "`#review done` in a reply to the review mail.",
    )
    listing.add_argument("--open", action="store_true", help="only answers with an open review")
    listing.add_argument("--all", action="store_true", help="replaced answers too")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true", help="JSON for scripts")
    listing.set_defaults(func=cmd_surveys_list)


def _review(row: surveys.AnswerRow, zone: str) -> str:
    if row.review == "open":
        due = local_time(row.review_due_at, zone) if row.review_due_at else "?"
        return f"open, due {due}"
    if row.review == "closed":
        when = local_time(row.review_closed_at, zone) if row.review_closed_at else ""
        return f"closed {when} by {row.review_closed_by}".replace("  ", " ")
    return ""


def _cells(row: surveys.AnswerRow, zone: str) -> tuple[str, ...]:
    score = f"{row.score} {LABELS[row.score][1].lower()}" if row.score in LABELS else str(row.score)
    comment = " ".join(row.comment.split())
    comment = comment[:60] + " …" if len(comment) > 60 else comment
    state = "replaced" if row.replaced else ""
    return (row.ticket_number, score, local_time(row.answered_at, zone), row.via, state,
            _review(row, zone), comment)  # fmt: skip


COLUMNS = Columns(("TICKET", "SCORE", "ANSWERED", "VIA", "STATE", "REVIEW", "COMMENT"), _cells)


def cmd_surveys_list(args: argparse.Namespace) -> int:
    cfg = load_config(args, secrets=False)
    with open_read_store(cfg).transaction() as tx:
        rows = surveys.listing(tx, args.limit, current_only=not args.all)
    if args.open:
        rows = [r for r in rows if r.review == "open"]
    nothing = "no open reviews" if args.open else "no survey answers"
    return print_rows(args.json, cfg.tickets.timezone, rows, COLUMNS, nothing)
