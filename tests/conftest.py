"""Test-wide guards: no test may reach beyond this machine.

Any attempt to resolve or connect to a non-loopback address fails loudly, so no
test can silently depend on the internet.
"""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest

_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "", None}


class NetworkAccessError(RuntimeError):
    pass


def _is_loopback(host) -> bool:
    if host in _LOCAL_NAMES:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not _is_loopback(host):
        raise NetworkAccessError(f"test tried to resolve non-loopback host {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


def _check_address(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0] if isinstance(address, tuple) else address
        if not _is_loopback(host):
            raise NetworkAccessError(f"test tried to connect to non-loopback address {address!r}")


def _guarded_connect(self, address):
    _check_address(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _check_address(self, address)
    return _real_connect_ex(self, address)


socket.getaddrinfo = _guarded_getaddrinfo
socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex


@pytest.fixture(autouse=True)
def _no_cloud_credentials(monkeypatch, tmp_path_factory):
    """Keep real cloud credentials and config out of every test."""
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "KUBECONFIG",
                "GOOGLE_APPLICATION_CREDENTIALS", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    monkeypatch.setenv("SKYPLAN_CACHE_DIR", str(home / "skyplan-cache"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(home / "gcloud"))  # no gcloud login is found
    monkeypatch.setenv("NO_GCE_CHECK", "true")  # google-auth does not ask a GCE metadata server
    monkeypatch.setenv("NO_COLOR", "1")


# Parallel workers (pytest -n) inherit COLUMNS=80/LINES=24 from their launcher; the
# commands the tests run must see the same environment as in a single process.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)
