"""Which address a request is counted against (pure): X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import ipaddress

import pytest

from worker.web.clients import client_address, rate_key
from worker.web.config import Network

pytestmark = pytest.mark.unit

PROXY = "10.0.0.5"
TRUSTED: tuple[Network, ...] = (ipaddress.ip_network("10.0.0.0/24"), ipaddress.ip_network("::1/128"))


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert client_address("203.0.113.7", ["198.51.100.1"], ()) == "203.0.113.7"
    # A client that spoofs the header, from an address outside the trusted ones, is still itself.
    assert client_address("203.0.113.7", ["10.0.0.1, 198.51.100.1"], TRUSTED) == "203.0.113.7"


def test_from_a_trusted_proxy_the_right_most_untrusted_address_is_the_client() -> None:
    assert client_address(PROXY, ["198.51.100.1"], TRUSTED) == "198.51.100.1"
    # The client wrote "1.1.1.1, 2.2.2.2" itself; the proxy appended what it saw.
    assert client_address(PROXY, ["1.1.1.1, 2.2.2.2, 198.51.100.1"], TRUSTED) == "198.51.100.1"
    # A chain of trusted proxies is walked through.
    assert client_address(PROXY, ["198.51.100.1, 10.0.0.9"], TRUSTED) == "198.51.100.1"
    # Several headers count as one list, in order.
    assert client_address(PROXY, ["1.1.1.1", "198.51.100.1, 10.0.0.9"], TRUSTED) == "198.51.100.1"


def test_odd_headers_from_a_trusted_proxy() -> None:
    assert client_address(PROXY, [], TRUSTED) == PROXY  # no header: the proxy itself
    assert client_address(PROXY, [" , "], TRUSTED) == PROXY
    assert client_address(PROXY, ["10.0.0.7, 10.0.0.8"], TRUSTED) == "10.0.0.7"  # all trusted
    # Garbage left of the trusted hops is the client's own writing: a key, never an error.
    assert client_address(PROXY, ["not-an-ip"], TRUSTED) == "not-an-ip"
    assert len(client_address(PROXY, ["x" * 500], TRUSTED)) == 64
    assert client_address(PROXY, ["[2001:db8::1]"], TRUSTED) == "2001:db8::1"


def test_peer_forms() -> None:
    assert client_address(None, ["1.2.3.4"], TRUSTED) == "unknown"
    assert client_address("::ffff:203.0.113.7", [], ()) == "203.0.113.7"
    assert client_address("::1", ["2001:db8::5"], TRUSTED) == "2001:db8::5"


def test_ipv6_clients_share_a_key_per_64() -> None:
    assert rate_key("2001:db8:1:2::1") == rate_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert rate_key("2001:db8:1:3::1") != rate_key("2001:db8:1:2::1")
    assert rate_key("203.0.113.7") == "203.0.113.7"
    assert rate_key("not-an-ip") == "not-an-ip"
