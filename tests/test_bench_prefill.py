"""The ingest benchmark's stored history (benchmarks/ingest/prefill.py, --stored-tickets)
is a desk maildesk carries on with: after the bulk fill, a new mail opens a new ticket
(ids and numbers go on; on PostgreSQL the id sequences were moved past the rows), routed
and assigned among the benchmark's [[people]], and a reply to a stored request finds
its ticket. A fill that drifted from the schema fails here, not in a long benchmark."""

from __future__ import annotations

from benchmarks.ingest import prefill
from benchmarks.ingest.desk import PEOPLE, person_table
from sqlalchemy import text

from maildesk import db

from .conftest import ConfigFactory, build_service
from .test_engineers import mail

SECURITY = '\n[security]\nsecret = "benchmark-secret-0123456789abcdef"\n'


def test_maildesk_carries_on_from_the_stored_history(make_config: ConfigFactory) -> None:
    engine = db.make_engine(make_config.db_url)
    counts = prefill.fill(engine, 40, prefill.now_utc())
    assert counts["tickets"] == 40 and counts["outbox"] == 80
    assert prefill.max_ids(engine) == {"inbound_messages": 40, "tickets": 40, "outbox": 80}
    with engine.connect() as conn:
        stored_mid, requester, status = conn.execute(
            text("SELECT message_id, t.requester_email, t.status FROM inbound_messages i "
                 "JOIN tickets t "
                 "ON t.id = i.ticket_id WHERE t.status = 'closed' ORDER BY i.id LIMIT 1")
        ).one()  # fmt: skip
    engine.dispose()
    cfg = make_config(extra=SECURITY + "".join(person_table(p) for p in PEOPLE))
    service = build_service(cfg)

    new = service.ingest(mail("new.user@example.com", "VPN 连不上", "错误 809", n=1), "t")
    assert new.kind == "created"
    assert new.ticket_number.endswith("-0001")  # the history ends a day before today
    reply = mail(requester, "Re: 还是不行", "又坏了", in_reply_to=f"<{stored_mid}>")
    again = service.ingest(reply, "t")
    assert status == "closed" and again.kind == "created"  # a closed ticket is replaced
    with service.store.engine.connect() as conn:
        ids = conn.execute(text("SELECT id, assignee, linked_ticket_id FROM tickets "
                                "WHERE id > 40 ORDER BY id")).all()  # fmt: skip
    assert [row[0] for row in ids] == [41, 42]
    network = [p.email for p in PEOPLE if "network" in p.groups and p.role != "manager"]
    assert ids[0][1] in network, "VPN: routed to network, assigned round robin"
    assert ids[1][2] is not None, "the reply is linked to the stored ticket it answered"
