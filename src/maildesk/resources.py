"""Find the shipped templates/ and config/ folders, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """`templates` or `config`: inside the wheel (_shipped/) or at the repository root."""
    for candidate in (PACKAGE / "_shipped" / name, PACKAGE.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"maildesk's {name}/ folder is missing from this installation")
