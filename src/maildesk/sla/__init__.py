"""Service levels: how soon tickets must be answered.

settings.py declares the [sla] section of maildesk.toml (`cfg.section(SLA_SECTION)`).
"""
