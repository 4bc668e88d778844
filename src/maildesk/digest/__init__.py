"""Managers' digests and reports: the figures of a period, as mail and on demand.

model.py is the contract (plain values); see its docstring for who fills what.
"""
