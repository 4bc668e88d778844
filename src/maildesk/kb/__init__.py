"""The knowledge base: Markdown articles suggested in the mail flow (issue 13).

model.py     the contract (Article, Problem, Suggestion): plain values
articles.py  a folder's *.md with front matter; a broken file is a Problem (file, line)
markdown.py  to_html (raw HTML escaped, http(s)/mailto links only), to_text, excerpt
tokens.py    the index's terms: rjieba words, stems, CJK bigrams; a request's language
index.py     BM25F with coverage, one suggestion per topic in the request's language
settings.py  [kb]: folder, threshold, max_suggestions, questions, question_prefixes
usecases.py  KnowledgeBase and open_kb: built once, rebuilt when the folder changes
"""
