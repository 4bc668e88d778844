"""The knowledge base: Markdown articles suggested in the mail flow (issue 13).

model.py is the contract (plain values).
"""
