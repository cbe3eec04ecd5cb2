"""Helpers for configuration tests: write a config folder from text."""

from __future__ import annotations

import pytest


@pytest.fixture
def write_config(tmp_path):
    """write_config("main.sky.hcl text", other="...") -> folder path."""

    def write(text: str = "", folder: str = "cfg", **files: str):
        d = tmp_path / folder
        d.mkdir(parents=True, exist_ok=True)
        if text:
            (d / "main.sky.hcl").write_text(text)
        for name, body in files.items():
            (d / name.replace("__", ".")).write_text(body)
        return d

    return write
