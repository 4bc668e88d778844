"""`maildesk kb list|show|reindex|check|publish` as an engineer runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from maildesk.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "kb"
BROKEN = "---\ntitle: 打印机\ncategory: 打印\nlanguage: zh-CN\n---\n卡纸\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "kb"
    shutil.copytree(FIXTURES, copy)
    return copy


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_prints_file_and_line_and_exits_1(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "kb", "--folder", str(folder), "check")[:2] == (
        0,
        "7 article(s), 1 draft(s): no problems\n",
    )
    (folder / "printer.zh-CN.md").write_text(BROKEN, encoding="utf-8")
    (folder / "drafts" / "new.en.md").write_text("no front matter\n", encoding="utf-8")
    code, out, _ = run(capsys, "kb", "--folder", str(folder), "check")
    assert code == 1
    lines = out.splitlines()
    assert any(line.endswith("printer.zh-CN.md:3: unknown category '打印' (硬件故障, 软件异常, "
                              "网络问题, 账号权限, 数据安全, 其他)") for line in lines)  # fmt: skip
    assert any(line.endswith("drafts/new.en.md:1: no front matter: the file must start with "
                             "a line '---'") for line in lines)  # fmt: skip
    assert lines[-1] == "6 article(s), 1 draft(s): 2 problem(s)"


def test_check_reads_the_folder_of_the_config(
    tmp_path: Path, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "vpn.en.md").write_text("---\ntitle: [\n---\nx\n", encoding="utf-8")
    cfg = tmp_path / "maildesk.toml"
    cfg.write_text('[maildesk]\nsupport_address = "it@example.com"\n[kb]\nfolder = "kb"\n')
    code, out, _ = run(capsys, "--config", str(cfg), "kb", "check")
    assert code == 1 and "vpn.en.md:2: front matter is not valid YAML" in out


def test_list_show_and_list_json(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "broken.en.md").write_text("nothing\n", encoding="utf-8")
    code, out, _ = run(capsys, "kb", "--folder", str(folder), "list")
    assert code == 0
    assert out.splitlines()[0].split() == ["NAME", "LANGUAGE", "CATEGORY", "TITLE"]
    assert "vpn.zh-CN             zh-CN     网络问题  VPN 连接失败（错误 809、691、超时）" in out
    assert "(1 file(s) skipped: `maildesk kb check` says why)" in out
    code, out, _ = run(capsys, "kb", "--folder", str(folder), "list", "--json")
    listed = json.loads(out.split("\n(")[0])
    assert {a["name"] for a in listed} >= {"vpn.en", "printer.zh-CN"}
    code, out, _ = run(capsys, "kb", "--folder", str(folder), "show", "printer.en")
    assert out.startswith("Printer offline, paper jam, error E5\nen · 硬件故障 · printer,")
    assert "1. Does the printer's panel show an error code? E5 is a paper jam" in out
    code, out, _ = run(capsys, "kb", "--folder", str(folder), "show", "printer.en", "--html")
    assert "<strong>E5</strong>" in out
    code, _, err = run(capsys, "kb", "--folder", str(folder), "show", "nothing.en")
    assert code == 1 and "no article nothing.en" in err


def test_publish_moves_a_draft_after_checking_it(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "kb", "--folder", str(folder), "publish", "wifi.zh-CN")
    assert (code, out) == (0, "published wifi.zh-CN: 无线网连不上\n")
    assert (folder / "wifi.zh-CN.md").is_file() and not (
        folder / "drafts" / "wifi.zh-CN.md"
    ).exists()
    (folder / "drafts" / "vpn.en.md").write_text(BROKEN.replace("zh-CN", "en"), encoding="utf-8")
    code, _, err = run(capsys, "kb", "--folder", str(folder), "publish", "vpn.en.md")
    assert code == 1 and "drafts/vpn.en.md:3: unknown category" in err
    (folder / "drafts" / "vpn.en.md").write_text(
        (FIXTURES / "vpn.en.md").read_text(encoding="utf-8"), encoding="utf-8"
    )
    code, _, err = run(capsys, "kb", "--folder", str(folder), "publish", "vpn.en")
    assert code == 1 and "exists already" in err
    assert (folder / "drafts" / "vpn.en.md").is_file()
    code, _, err = run(capsys, "kb", "--folder", str(folder), "publish", "nothing")
    assert code == 1 and "no draft" in err


def test_reindex_reports_counts_and_times(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "kb", "--folder", str(folder), "reindex")
    assert code == 0 and out.startswith("7 articles (en, zh-CN), ")
    assert "segmenter start-up" in out
