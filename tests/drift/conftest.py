"""Drift tests reuse the provider tests' local servers (moto's EC2 on 127.0.0.1)."""

from tests.providers.conftest import _moto_session, moto  # noqa: F401  (fixtures)
