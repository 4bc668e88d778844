"""Recurring problems of a period (digest/recurring.find) on two weeks of an office IT
desk's requests (tests/digest_requests.py), hostile text, and mail we did not write;
the period's ticket texts from the store (store/ticket_texts.opened)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from maildesk import db
from maildesk.digest.model import RecurringTerm
from maildesk.digest.recurring import (
    DESCRIPTION_CHARS,
    NOISE,
    NOISE_WORDS,
    SUBJECT_CHARS,
    TicketText,
    find,
)
from maildesk.domain import Address, NewTicket
from maildesk.store import Store, ticket_texts, tickets
from maildesk.terms.vocabulary import PLACES, STOP

from .digest_requests import ACC, CURRENT, HW, NET, PREVIOUS, SEC, SW

# (category, term, count, previous, example numbers newest first), hand-checked against
# digest_requests.py: e.g. VPN 809 is said by 0003 of the 23rd, 0002 of the 24th, 25th
# and 26th and 0001 of the 27th, and by none of the previous week (its VPN was slow).
EXPECTED = [
    (NET, "VPN 809", 5, 0, ("IT-20261127-0001", "IT-20261126-0002")),
    (HW, "打印机卡纸", 5, 1, ("IT-20261128-0005", "IT-20261126-0001")),
    (HW, "printer jam", 2, 0, ("IT-20261125-0005", "IT-20261123-0002")),
    (HW, "显示器", 2, 2, ("IT-20261128-0001", "IT-20261124-0005")),
    (SW, "共享盘打不开", 3, 2, ("IT-20261125-0004", "IT-20261124-0004")),
    (SW, "Outlook", 2, 2, ("IT-20261128-0003", "IT-20261124-0006")),
    (ACC, "登录不了 解锁", 2, 0, ("IT-20261127-0003", "IT-20261123-0004")),
    (ACC, "locked out", 2, 1, ("IT-20261126-0004", "IT-20261124-0003")),
    (ACC, "被锁定", 2, 2, ("IT-20261125-0003", "IT-20261123-0004")),
    (SEC, "钓鱼邮件", 2, 1, ("IT-20261129-0002", "IT-20261125-0006")),
]


def rows(found: tuple[RecurringTerm, ...]) -> list[tuple[str, str, int, int, tuple[str, ...]]]:
    return [(t.category, t.term, t.count, t.previous, tuple(e.number for e in t.examples))
            for t in found]  # fmt: skip


def test_the_weeks_recurring_problems_per_category() -> None:
    found = find(CURRENT, PREVIOUS)
    assert rows(found) == EXPECTED
    assert not any(t.has_article for t in found)
    by_term = {t.term: t for t in found}
    # examples show the subject without reply prefixes
    assert [e.subject for e in by_term["打印机卡纸"].examples] == [
        "三楼打印机卡纸",
        "四楼打印机卡纸",
    ]
    assert by_term["printer jam"].examples[0].subject == "printer jam on 3rd floor"


def test_a_phrase_stands_for_its_words_when_it_covers_the_same_tickets() -> None:
    terms = [t.term for t in find(CURRENT, PREVIOUS, limit=100, per_category=100)]
    assert "打印机卡纸" in terms
    assert "打印机" not in terms and "卡纸" not in terms
    assert "printer" not in terms and "jam" not in terms
    # words of the same tickets written apart are one term, not two
    assert "VPN" not in terms and "809" not in terms


def test_greetings_thanks_places_and_reply_prefixes_never_appear() -> None:
    found = find(CURRENT, PREVIOUS, limit=1000, per_category=1000)
    assert found
    for term in found:
        for word in term.term.lower().split():
            assert word not in STOP, term
        assert not any(place in term.term for place in PLACES), term
        assert not any(w in term.term.lower() for w in ("谢谢", "thank", "楼", "5f", "re:", "回复"))
        assert all(not e.subject.lower().startswith(("re:", "回复")) for e in term.examples)


def test_min_tickets_limit_and_per_category() -> None:
    assert [t.term for t in find(CURRENT, PREVIOUS, min_tickets=3)] == [
        "VPN 809", "打印机卡纸", "共享盘打不开",
    ]  # fmt: skip
    assert [t.term for t in find(CURRENT, PREVIOUS, limit=2)] == ["VPN 809", "打印机卡纸"]
    assert [t.term for t in find(CURRENT, PREVIOUS, per_category=1)] == [
        "VPN 809", "打印机卡纸", "共享盘打不开", "登录不了 解锁", "钓鱼邮件",
    ]  # fmt: skip
    assert find([], PREVIOUS) == ()
    assert find(CURRENT[:1], []) == ()


def _ticket(n: int, subject: str, day: int = 23, category: str = HW) -> TicketText:
    at = datetime(2026, 11, day, 9, tzinfo=UTC) + timedelta(minutes=n)
    return TicketText(f"IT-202611{day:02d}-{n:04d}", category, subject, "", at)


def test_a_rising_problem_ranks_before_a_steady_one() -> None:
    steady = [_ticket(i, "打印机卡纸") for i in range(4)]
    rising = [_ticket(10 + i, "VPN 809") for i in range(3)]
    before = [_ticket(20 + i, "打印机卡纸", day=16) for i in range(4)]
    found = find(steady + rising, before)
    # VPN 809: 3 tickets, 3 more than before; 打印机卡纸: 4, as many as before
    assert [(t.term, t.count, t.previous) for t in found] == [
        ("VPN 809", 3, 0), ("打印机卡纸", 4, 4),
    ]  # fmt: skip


def test_examples_are_the_newest_two() -> None:
    same_time = [replace(_ticket(i, "共享盘打不开"), created_at=CURRENT[0].created_at)
                 for i in range(3)]  # fmt: skip
    later = _ticket(99, "回复：共享盘打不开", day=27)
    (term,) = find([*same_time, later], [])
    assert [e.number for e in term.examples] == ["IT-20261127-0099", "IT-20261123-0002"]
    assert term.examples[0].subject == "共享盘打不开"


HOSTILE = (  # nothing in it is a problem's words
    '<div style="font-family:微软雅黑"><p>&nbsp;&#65292;</p>\r\n'
    "<p>https://intranet.example.com/kb?id=4711&amp;x=1</p>\r\n"
    '<img src="cid:image001.png@01DB4F2A.5C3E1B20"></div>\r\n'
    "aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQ=\r\n"
    "2026-11-23 09:15:02，13812345678，li.lei@example.com\r\n"
)


def test_hostile_text_is_bounded_and_leaves_no_noise() -> None:
    huge = HOSTILE + "<b>x</b>&nbsp;" * 10_000 + "共享盘打不开 " * 100  # 100 KB, then words
    subjects = ["RE: 打印机卡纸 " + "啊" * 100_000, "回复：VPN 809"]
    current = [
        TicketText(f"IT-20261123-{i:04d}", HW, subjects[i % 2], huge,
                   datetime(2026, 11, 23, 9, i, tzinfo=UTC))
        for i in range(40)
    ]  # fmt: skip
    found = find(current, [], limit=1000, per_category=1000)
    # noise shared by all 40 would rank first and hide both; the words after the first
    # DESCRIPTION_CHARS characters are not read
    assert [(t.term, t.count) for t in found] == [("VPN 809", 20), ("打印机卡纸", 20)]
    assert all(len(e.subject) <= 120 for t in found for e in t.examples)


def test_only_the_start_of_a_long_description_is_read() -> None:
    """The cost of a week's terms grows with the characters read: 1,900 + 1,900 tickets
    of 2,000 characters took 3.3 s at the old cap of 2,000, 0.65 s at 400 (README,
    Digests).  What a request is about is said at its start: a term said after the
    first 400 characters (here at 600) is not counted."""

    def terms(after: int) -> list[str]:
        """Three of six tickets say it, after `after` characters of a pasted log."""
        tickets = [
            TicketText(f"IT-20261123-{i:04d}", SW, f"问题 {i}",
                       "。" * after + "共享盘打不开" if i % 2 else "你好",
                       datetime(2026, 11, 23, 9, i, tzinfo=UTC))
            for i in range(6)
        ]  # fmt: skip
        return [t.term for t in find(tickets, [], limit=1000, per_category=1000)]

    assert terms(10) == ["共享盘打不开"]
    assert terms(600) == []
    assert DESCRIPTION_CHARS == 400


NOISE_SAMPLES = {
    "html tag": '<span class="MsoNormal" lang="EN-US" style="font-size:10.5pt">',
    "html entity": "&nbsp;&#8203;&ldquo;&#x4e2d;",
    "url": "https://sharepoint.example.com/sites/IT/x.aspx?ID=42 www.example.org/help",
    "mail header": 'Content-Type: text/plain; charset="gb2312"\n'
    "Content-Transfer-Encoding: base64\nFrom: Li Lei <li.lei@example.com>\nSent: Monday\nSubject:",
    "mail address": "li.lei@example.com",
    "date": "2026年11月23日 2026-11-23 11月23日 2026/11/23",
    "english date": "Monday, 23 November 2026 / Nov 23, 2026 / 1st Dec 2026",
    "time": "09:15:02 下午3点半 十点",
    "long number": "13812345678 20261123000012",
    "encoded blob": "aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQ= d41d8cd98f00b204e9800998ecf8427e",
}


def test_every_noise_rule_leaves_nothing_of_its_sample() -> None:
    assert set(NOISE_SAMPLES) == {name for name, *_ in NOISE} | {n for n, _ in NOISE_WORDS}
    for name, sample in NOISE_SAMPLES.items():
        # two different problems: only the noise they share could recur
        current = [replace(_ticket(i, subject), description=sample)
                   for i, subject in enumerate(["打印机卡纸", "VPN 809"])]  # fmt: skip
        assert [t.term for t in find(current, [])] == [], name


def test_case_of_latin_words_is_as_people_wrote_it() -> None:
    current = [_ticket(1, "vpn 809"), _ticket(2, "VPN 809"), _ticket(3, "VPN 809 again")]
    assert [t.term for t in find(current, [])] == ["VPN 809"]


# --- mail we did not write ------------------------------------------------------------------

NOISE_IN_TERMS = ("http", "www", "nbsp", "&", "<", ">", "=", "content-type", "base64",
                  "charset=", "@")  # fmt: skip


def test_corpus_mail_gives_no_markup_encodings_or_addresses(corpus: Path) -> None:
    from benchmarks.recurring import corpus_tickets

    found = corpus_tickets(corpus)
    assert len(found) > 100
    terms = find(found, [], limit=1000, per_category=1000)
    assert terms  # the corpus folders do share words (bounce notices say "delivery")
    for term in terms:
        assert not any(n in term.term.lower() for n in NOISE_IN_TERMS), term
        assert not term.term.isdigit(), term
        for word in term.term.lower().split():
            assert word not in STOP, term


# --- the store ------------------------------------------------------------------------------


def test_opened_reads_the_periods_tickets_of_a_group(db_url: str) -> None:
    store = Store(db.make_engine(db_url))
    start, end = datetime(2026, 11, 23, 16, tzinfo=UTC), datetime(2026, 11, 30, 16, tzinfo=UTC)
    who = Address("李雷", "li.lei@example.com")
    made = [  # (number, group, created_at, description)
        ("IT-1", "desktop", start - timedelta(seconds=1), "before"),
        ("IT-2", "desktop", start, "打印机卡纸" * 1000),
        ("IT-3", "network", start + timedelta(days=2), "VPN 809"),
        ("IT-4", "desktop", end - timedelta(microseconds=1), "last"),
        ("IT-5", "desktop", end, "after"),
    ]
    with store.transaction() as tx:
        for number, group, at, description in made:
            new = NewTicket("S" * 500, description, who, "", "", "medium", HW, "incident",
                            group=group)  # fmt: skip
            tickets.create(tx, number, new, at, None)
    with store.transaction() as tx:
        desk = ticket_texts.opened(tx, start, end)
        desktop = ticket_texts.opened(tx, start, end, "desktop")
        none = ticket_texts.opened(tx, start, end, "nobody")
    assert [t.number for t in desk] == ["IT-2", "IT-3", "IT-4"]
    assert [t.number for t in desktop] == ["IT-2", "IT-4"]
    assert none == []
    first = desk[0]
    assert first.created_at == start and first.created_at.tzinfo is not None
    assert first.category == HW
    assert len(first.description) == DESCRIPTION_CHARS and len(first.subject) == SUBJECT_CHARS
    assert desk[1] == TicketText(
        "IT-3", HW, "S" * SUBJECT_CHARS, "VPN 809", start + timedelta(days=2)
    )


def test_recurring_problems_without_an_article_are_worth_one() -> None:
    """The digest marks each recurring problem an article answers (asked as a request:
    the term and its example subjects); the rest are listed as worth an article."""
    from maildesk import config as config_mod
    from maildesk.digest.collect import _with_articles
    from maildesk.digest.model import RecurringTerm, TicketRef

    cfg = config_mod.parse('[maildesk]\nsupport_address = "it@example.com"\n',
                           config_mod.find_path("/tmp/x/maildesk.toml"), env={})  # fmt: skip
    jam = RecurringTerm(
        "硬件故障",
        "打印机卡纸",
        5,
        1,
        (TicketRef("IT-1", "三楼打印机卡纸"), TicketRef("IT-2", "打印机又卡纸了")),
    )
    badge = RecurringTerm(
        "其他",
        "门禁卡",
        3,
        0,
        (TicketRef("IT-3", "门禁卡刷不开"), TicketRef("IT-4", "新员工门禁卡")),
    )
    marked = _with_articles(cfg, (jam, badge))
    assert [(t.term, t.has_article) for t in marked] == [("打印机卡纸", True), ("门禁卡", False)]
