"""Render mail to PNG with headless Chromium, to look at what people see.

    .venv/bin/python scripts/render_mail_png.py OUT_DIR FILE.eml [FILE.eml ...]

writes OUT_DIR/<stem>.png for each message: a small mail-client style header block (From, To,
Cc, Subject, Date) above the text/html body (or the text/plain body in <pre>), with cid:
images replaced by data: URIs of the inline parts.  The page forbids every remote resource
(Content-Security-Policy), the body runs in a sandboxed iframe without scripts, and Chromium
is started with its background networking off.  Needs Debian's `chromium` (and
`fonts-noto-cjk` for Chinese text).  Exit status: 0 all rendered, 1 some failed, 2 usage.
"""

from __future__ import annotations

import base64
import contextlib
import html
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import unquote

USAGE = "usage: render_mail_png.py OUT_DIR FILE.eml [FILE.eml ...]"
TIMEOUT_S = 60
WINDOW = "900,1400"
HEADERS = ("From", "To", "Cc", "Subject", "Date")
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
CID_REF = re.compile(r"""cid:([^"'\s)>]+)""", re.IGNORECASE)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    f"--window-size={WINDOW}",
    # a sandboxed iframe in a process of its own is often not painted yet at screenshot time
    "--disable-features=IsolateSandboxedIframes",
)
PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>{title}</title>
<style>
html, body {{ margin: 0; height: 100%; background: #fff; }}
body {{ display: flex; flex-direction: column;
  font: 14px system-ui, "Noto Sans CJK SC", "Noto Sans", sans-serif; }}
.headers {{ background: #f3f4f6; border-bottom: 1px solid #d1d5db; padding: 10px 16px; }}
.headers table {{ border-collapse: collapse; }}
.headers th {{ text-align: right; color: #6b7280; font-weight: normal;
  padding: 2px 10px 2px 0; vertical-align: top; white-space: nowrap; }}
.headers td {{ padding: 2px 0; color: #111827; word-break: break-word; }}
.headers tr.subject td {{ font-weight: 600; font-size: 16px; }}
iframe {{ flex: 1; border: 0; width: 100%; }}
</style></head>
<body><div class="headers"><table>{rows}</table></div>
<iframe sandbox srcdoc="{body}"></iframe></body></html>
"""
PLAIN = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
    '<body><pre style="white-space: pre-wrap; font: 14px monospace; margin: 16px">'
    "{text}</pre></body></html>"
)


# -- the message -----------------------------------------------------------------------------


def load(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    assert isinstance(message, EmailMessage)
    return message


def header(message: EmailMessage, name: str) -> str:
    """The decoded header value; a header the policy can't parse is shown as it came."""
    try:
        values = [str(value) for value in message.get_all(name) or []]
    except Exception:  # a malformed header must not stop the rendering
        raw = message.raw_items()
        values = [str(value) for key, value in raw if key.lower() == name.lower()]
    return ", ".join(values)


def part_text(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, KeyError):
        pass
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def body_html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    if part is not None:
        return part_text(part)
    part = message.get_body(preferencelist=("plain",))
    text = part_text(part) if part is not None else "(this message has no text body)"
    return PLAIN.format(text=html.escape(text))


def inline_parts(message: EmailMessage) -> dict[str, str]:
    """Content-ID (without <>) -> data: URI, for every part that has a Content-ID."""
    uris: dict[str, str] = {}
    for part in message.walk():
        cid = str(part.get("Content-ID", "")).strip().strip("<>")
        payload = part.get_payload(decode=True)
        if cid and isinstance(payload, bytes):
            encoded = base64.b64encode(payload).decode("ascii")
            uris[cid] = f"data:{part.get_content_type()};base64,{encoded}"
    return uris


def replace_cids(body: str, uris: dict[str, str]) -> str:
    def swap(match: re.Match[str]) -> str:
        cid = unquote(match.group(1))
        return uris.get(cid, match.group(0))  # an unknown cid: stays, and shows as missing

    return CID_REF.sub(swap, body)


# -- the page ------------------------------------------------------------------------------


def header_rows(message: EmailMessage) -> str:
    rows = []
    for name in HEADERS:
        value = header(message, name)
        if value or name != "Cc":
            css = ' class="subject"' if name == "Subject" else ""
            rows.append(f"<tr{css}><th>{name}:</th><td>{html.escape(value)}</td></tr>")
    return "".join(rows)


def page(message: EmailMessage) -> str:
    body = replace_cids(body_html(message), inline_parts(message))
    return PAGE.format(
        csp=CSP,
        title=html.escape(header(message, "Subject")),
        rows=header_rows(message),
        body=html.escape(body, quote=True),
    )


# -- chromium ------------------------------------------------------------------------------


def find_chromium() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def missing_chromium() -> int:
    if os.geteuid() == 0:
        print("render_mail_png: chromium is not installed. We are root, so install it with:")
        print("    apt-get install -y chromium")
    else:
        print("render_mail_png: chromium is not installed; as root: apt-get install -y chromium")
    print("(for Chinese text also: apt-get install -y fonts-noto-cjk)")
    return 1


def screenshot(chromium: str, page_path: Path, png: Path, workdir: Path) -> str | None:
    """Run Chromium once; return None on success, else what went wrong."""
    profile = workdir / "profile"
    profile.mkdir()
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    command += [f"--screenshot={png}", page_path.as_uri()]
    log = workdir / "chromium.log"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            command, stdout=stderr, stderr=stderr, stdin=subprocess.DEVNULL, start_new_session=True
        )
        try:
            code = proc.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: helpers it left behind
            proc.wait()
    if code is None:
        return f"chromium timed out after {TIMEOUT_S} s"
    if code != 0 or not png.is_file():
        tail = log.read_text("utf-8", "replace").strip().splitlines()[-5:]
        return f"chromium exited {code} without {png.name}:\n    " + "\n    ".join(tail)
    return None


def render(chromium: str, eml: Path, out_dir: Path) -> str | None:
    """Render one .eml to OUT_DIR/<stem>.png; return None on success, else the error."""
    try:
        message = load(eml)
    except OSError as error:
        return f"cannot read it: {error}"
    png = (out_dir / f"{eml.stem}.png").resolve()
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="render_mail_") as tmp:
        page_path = Path(tmp) / "mail.html"
        page_path.write_text(page(message), "utf-8")
        return screenshot(chromium, page_path, png, Path(tmp))


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(USAGE, file=sys.stderr)
        return 2
    chromium = find_chromium()
    if chromium is None:
        return missing_chromium()
    out_dir = Path(argv[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name in argv[1:]:
        error = render(chromium, Path(name), out_dir)
        if error:
            failed += 1
            print(f"{name}: {error}", file=sys.stderr)
        else:
            print(f"{name} -> {out_dir / (Path(name).stem + '.png')}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
