"""Satisfaction surveys after resolution, and the reviews a low score opens.

settings.py  [survey]: on/off, delay, review target
answers.py   pure: signed tokens, mailto links, reading an answer from a mail
"""
