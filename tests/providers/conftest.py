"""Fixtures for provider tests: moto's EC2 server and the Kubernetes emulator,
each a real HTTP server on 127.0.0.1 started once per session and reset per test."""

from __future__ import annotations

import pytest

from tests.providers.moto_server import MotoEC2Server


@pytest.fixture(scope="session")
def _moto_session():
    server = MotoEC2Server()
    yield server
    server.stop()


@pytest.fixture
def moto(_moto_session, monkeypatch):
    """The moto server, reset, with dummy credentials in the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    _moto_session.reset()
    yield _moto_session
