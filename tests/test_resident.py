"""What a running daemon holds in memory that it never uses (issue 14: peak RSS ≤ 100 MB).

Each check runs in a fresh interpreter: it builds the daemon as `maildesk run` does and
segments a Chinese request, then lists the heavy modules that got loaded.
- `rjieba` (the package): its import builds rjieba's whole default dictionary, 33 MB;
  maildesk's segmenter is built from the compiled module and jieba_words.txt.gz (~7 MB).
- Pillow and css-inline: only a digest being written needs them (5.4 MB).
- SQLAlchemy's ORM: the tables are Core tables (6.6 MB); Alembic: the schema check
  reads the migrations' text (11 MB)."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from maildesk import daemon
from maildesk.cli import main
from maildesk.terms import segment, words

HEAVY = ("rjieba", "PIL", "css_inline", "sqlalchemy.orm", "alembic")

BUILD_THE_DAEMON = """
import argparse, sys
from maildesk import cli
from maildesk.daemon import Daemon
from maildesk.outbox import make_transport
from maildesk.terms import words
cfg = cli.load_config(argparse.Namespace(config=sys.argv[1] + "/maildesk.toml"))
daemon = Daemon(cfg, cli.make_service(cfg, cli.open_store(cfg)), make_transport(cfg.outbox))
assert words("三楼的打印机卡纸了，VPN 连不上") == ["打印机", "卡纸", "vpn", "连不上"]
heavy = sys.argv[2].split(",")
print(sorted({m for m in sys.modules for h in heavy if m == h or m.startswith(h + ".")}))
"""


def test_a_daemon_built_and_segmenting_holds_none_of_the_heavy_modules(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path / "desk")]) == 0
    out = subprocess.run(
        [sys.executable, "-c", BUILD_THE_DAEMON, str(tmp_path / "desk"), ",".join(HEAVY)],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_segmenter_knows_jiebas_common_words_and_the_it_words() -> None:
    """The shipped dictionary is read (a word only it has is one token, where the HMM
    alone would cut it otherwise), and the IT words are added on top."""
    jieba = segment.segmenter()
    assert jieba.has_word("中华人民共和国") and jieba.has_word("共享盘")
    assert segment.WORDS.stat().st_size > 100_000
    assert words("中华人民共和国") == ["中华人民共和国"]


def test_maildesk_run_limits_glibc_to_two_malloc_arenas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dozen threads each with an arena of its own kept 2.7 MB more at peak."""
    assert daemon.fewer_malloc_arenas() is (platform.libc_ver()[0] == "glibc")
    asked: list[int] = []
    monkeypatch.setattr(daemon, "fewer_malloc_arenas", lambda count=2: asked.append(count))
    assert main(["init", str(tmp_path / "desk")]) == 0
    assert main(["--config", str(tmp_path / "desk" / "maildesk.toml"), "run", "--once"]) == 0
    assert asked == [2]
