"""Drift tests reuse the provider tests' local servers: moto's EC2 and the
Kubernetes API emulator, both on 127.0.0.1."""

from tests.providers.conftest import _k8s_session, _moto_session, k8s, moto  # noqa: F401  (fixtures)
