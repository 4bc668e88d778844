"""Words of a request, for counting and ranking: Chinese segmented by rjieba (jieba-rs,
~0.2 s to import, loaded once per process) with a small IT user dictionary, Latin words
and numbers kept whole, stop words dropped, reply prefixes stripped.

    words("Re: 三楼共享盘打不开，求助")   -> ["共享盘", "打不开"]
    bigrams("打印机报错")                -> ["打印", "印机", "机报", "报错"]

Used by the digests' recurring problems and by the knowledge-base index.
"""

from maildesk.terms.segment import bigrams, runs, strip_reply_prefixes, words

__all__ = ["bigrams", "runs", "strip_reply_prefixes", "words"]
