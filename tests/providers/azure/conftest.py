"""The ARM emulator: a real HTTP server on 127.0.0.1, started once per session, reset per test."""

from __future__ import annotations

import pytest

from tests.providers.arm_emulator import ArmEmulator


@pytest.fixture(scope="session")
def _arm_session():
    emu = ArmEmulator()
    yield emu
    emu.stop()


@pytest.fixture
def arm(_arm_session, monkeypatch):
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    _arm_session.reset()
    yield _arm_session
