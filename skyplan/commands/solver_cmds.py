"""CLI commands: solver. Owned by the solver work; see ARCHITECTURE.md."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
