import socket

import pytest

from tests.conftest import NetworkAccessError


def test_resolving_a_public_name_fails_loudly():
    with pytest.raises(NetworkAccessError):
        socket.getaddrinfo("example.com", 443)


def test_connecting_to_a_public_address_fails_loudly():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkAccessError):
            s.connect(("93.184.215.14", 443))
    finally:
        s.close()


def test_loopback_is_allowed():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    c = socket.create_connection(srv.getsockname(), timeout=2)
    c.close()
    srv.close()
