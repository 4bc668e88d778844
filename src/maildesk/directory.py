"""The optional staff directory: a CSV with email, name, department, employee_id."""

from __future__ import annotations

import csv
from pathlib import Path

from maildesk.config import ConfigError
from maildesk.domain import Person

COLUMNS = ("email", "name", "department", "employee_id")


def load(path: Path | None) -> dict[str, Person]:
    if path is None:
        return {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _read(path, csv.DictReader(handle))
    except OSError as exc:
        raise ConfigError(f"maildesk.directory_csv: cannot read {path}: {exc}") from exc


def _read(path: Path, reader: csv.DictReader[str]) -> dict[str, Person]:
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError(
            f"maildesk.directory_csv: {path} lacks column(s) {', '.join(missing)} "
            f"(expected a header line: {','.join(COLUMNS)})"
        )
    people = {}
    for row in reader:
        email = (row["email"] or "").strip().lower()
        if email:
            people[email] = Person(
                email, row["name"] or "", row["department"] or "", row["employee_id"] or ""
            )
    return people
