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


GPU_NODES = [
    {"name": "gpu-a", "cpu": "32", "memory": "256Gi", "gpus": 8,
     "labels": {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3", "topology.kubernetes.io/zone": "rack-1"}},
    {"name": "gpu-b", "cpu": "32", "memory": "256Gi", "gpus": 8,
     "labels": {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3", "topology.kubernetes.io/zone": "rack-2"}},
    {"name": "t4-a", "cpu": "16", "memory": "64Gi", "gpus": 1,
     "labels": {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"}},
    {"name": "cpu-a", "cpu": "7910m", "memory": "31Gi"},
]


@pytest.fixture(scope="session")
def _k8s_session():
    from tests.providers.k8s_emulator import KubeEmulator

    emu = KubeEmulator(nodes=GPU_NODES)
    yield emu
    emu.stop()


@pytest.fixture
def k8s(_k8s_session):
    """The Kubernetes emulator, with workloads from earlier tests removed."""
    _k8s_session.reset()
    yield _k8s_session


@pytest.fixture(scope="session")
def _gce_session():
    from tests.providers.gce_emulator import GceEmulator

    emu = GceEmulator()
    yield emu
    emu.stop()


@pytest.fixture
def gce(_gce_session):
    """The Compute Engine emulator, emptied and without faults."""
    _gce_session.reset()
    yield _gce_session
