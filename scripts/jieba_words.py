"""Write src/maildesk/terms/jieba_words.txt.gz: the segmenter's dictionary.

    .venv/bin/pip download jieba==0.42.1 --no-deps --no-binary :all: -d /tmp/jieba
    tar -xzf /tmp/jieba/jieba-0.42.1.tar.gz -C /tmp/jieba
    .venv/bin/python scripts/jieba_words.py /tmp/jieba/jieba-0.42.1/jieba/dict.txt

jieba's dictionary (MIT, © 2013 Sun Junyi: terms/JIEBA-LICENSE.txt) has 349,046
words; rjieba builds all of them at import (33 MB resident).  The words seen at least
MIN_FREQ times in jieba's corpus, and every single character, are kept (83,664; ~7 MB
built): the knowledge base's three labelled sets give the same suggestions with every
threshold from 1 to 50 (one blind request is lost at 200), and the digests'
recurring-problem tests pass.  Lines
are `word frequency`; the part-of-speech tag is not kept (maildesk never tags).
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

MIN_FREQ = 20
OUT = Path(__file__).resolve().parent.parent / "src/maildesk/terms/jieba_words.txt.gz"


def main(dict_txt: str) -> int:
    kept = []
    for line in Path(dict_txt).read_text(encoding="utf-8").splitlines():
        word, freq, *_ = line.split(" ")
        if int(freq) >= MIN_FREQ or len(word) == 1:  # every character keeps its own
            kept.append(f"{word} {freq}\n")
    # mtime=0: the same input writes the same bytes
    OUT.write_bytes(gzip.compress("".join(kept).encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{len(kept)} words -> {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
