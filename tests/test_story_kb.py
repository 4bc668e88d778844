"""Self-service over Dovecot and aiosmtpd: a user's mail about a VPN failure gets an
acknowledgment (by SMTP) suggesting the VPN article in full, the user replies `#已解决`
(their client's reply to the acknowledgment, fetched by IMAP), the ticket is resolved
as self-served with the article credited, and the engineer hears that no action is
needed.  The daemon is wired as `maildesk run` wires it: the engine's index over the
articles maildesk ships (kb/vpn.zh-CN.md)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from maildesk.daemon import Daemon
from maildesk.outbox import make_transport
from maildesk.store import events, tickets
from maildesk.store import kb as kb_rows

from .conftest import ConfigFactory, SmtpSink, build_service, wait_until
from .servers.dovecot import Dovecot
from .test_story_threads import PEOPLE, USER, WANG, Story, body_text


def test_vpn_failure_solved_by_the_suggested_article(
    make_sqlite_config: ConfigFactory, dovecot: Dovecot, smtp_sink: SmtpSink
) -> None:
    cfg = make_sqlite_config(transport="smtp", smtp_port=smtp_sink.port,
                             imap={"port": dovecot.port}, extra=PEOPLE)  # fmt: skip
    base = build_service(cfg)
    daemon = Daemon(cfg, build_service(cfg), make_transport(cfg.outbox))
    thread = threading.Thread(target=daemon.run, daemon=True)
    story = Story(dovecot, smtp_sink)

    def ticket() -> tuple[str, list[str]]:
        with base.store.transaction() as tx:
            view = tickets.view(tx, number)
            assert view is not None
            return view.status, [e["kind"] for e in events.listing(tx, view.id)]

    thread.start()
    try:
        story.send(f"张伟 <{USER}>", "早上开始 VPN 连不上，提示错误 809，重启电脑也不行。",
                   "VPN 连不上了")  # fmt: skip
        ack = story.wait(USER, 1)
        number = str(ack["Subject"]).split("]")[0].strip("[")
        text = body_text(ack)
        assert "1. VPN 连接失败（错误 809、691、789、812、超时、掉线）" in text
        assert "先做三项检查" in text  # the article in full, below the signature
        assert f"[{number}] 已解决 vpn.zh-CN " in unquote(text)
        note = story.wait(WANG, 1)  # the engineer heard of the new ticket
        assert "VPN 连不上" in body_text(note)

        story.send(f"张伟 <{USER}>", "#已解决\n按文章重启路由器后好了，谢谢！",
                   f"回复: {ack['Subject']}", ack)  # fmt: skip
        told = story.wait(WANG, 2)
        assert "无需处理" in body_text(told) and "按文章重启路由器后好了" in body_text(told)
        wait_until(lambda: ticket()[0] == "resolved", what="resolved as self-served")
        assert "self_served" in ticket()[1]
    finally:
        daemon.stop.set()
        daemon.inbox_ready.set()
        daemon.outbox_ready.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    with base.store.transaction() as tx:
        now = datetime.now(UTC)
        counted = kb_rows.article_use(tx, now - timedelta(days=1), now + timedelta(days=1), "")
    assert [(a.name, a.suggested, a.helped) for a in counted.articles] == [("vpn.zh-CN", 1, 1)]
    assert (counted.resolved_self, counted.resolved_total) == (1, 1)
    assert len(story.received(USER)) == 1  # the acknowledgment; the survey waits for its tick
