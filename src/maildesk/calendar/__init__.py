"""The business calendar: when the service desk works, and business-time arithmetic.

- model.py: the Calendar value (zone, weekly hours, holidays and make-up days 调休,
  which years are official) and the 24×7 calendar;
- business.py: pure arithmetic (add business minutes, business minutes between two
  instants, with pauses; working time; provisional instants);
- settings.py: the [calendar] section of maildesk.toml;
- seed.py: the official schedule known to the chinese-calendar library;
- files.py: .ics and YAML schedules an administrator imports;
- changes.py: what an import changed, and which years are missing (pure);
- usecases.py: loading the calendar from the database (seeding it on first use) and
  importing a schedule.
"""
