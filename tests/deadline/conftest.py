"""Deadline tests reuse the provider tests' moto EC2 server on 127.0.0.1."""

from tests.providers.conftest import _moto_session, moto  # noqa: F401  (fixtures)
