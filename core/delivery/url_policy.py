"""Which addresses outgoing webhooks may reach.

A URL is checked after DNS resolution: if any address its host resolves to lies in a denied
network, the delivery is refused. The default deny-list is link-local IPv4
(``169.254.0.0/16``, where cloud metadata services live) and link-local IPv6
(``fe80::/10``); loopback and private LAN addresses stay allowed, since a self-hosted
receiver usually lives there. ``SUBLARR_WEBHOOK_DENY_NETWORKS`` replaces the list.

The check runs when a webhook is saved and whenever a connection is opened
(``GuardedHTTPConnection``/``GuardedHTTPSConnection``): the host is resolved once, every
address checked, and the socket opened to a checked address, so a DNS answer that changes
between the check and the connect cannot slip through.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sublarr.core.errors import SublarrError

DEFAULT_DENY_NETWORKS: tuple[str, ...] = ("169.254.0.0/16", "fe80::/10")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefusedError(SublarrError):
    """An outgoing URL whose host resolves into a denied network (never retried)."""


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text, strict=False)


@dataclass(frozen=True)
class UrlPolicy:
    """A deny-list of networks, checked against resolved addresses."""

    deny_networks: tuple[Any, ...] = field(
        default_factory=lambda: tuple(map(_network, DEFAULT_DENY_NETWORKS))
    )

    @classmethod
    def from_strings(cls, networks: Iterable[str]) -> UrlPolicy:
        """A policy denying the given CIDR networks."""
        return cls(tuple(_network(n) for n in networks))

    def denied_network(self, address: str | IPAddress) -> str | None:
        """The denied network holding ``address`` (as text), or ``None`` when it is allowed."""
        ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
        candidates = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        for candidate in candidates:
            for net in self.deny_networks:
                if candidate.version == net.version and candidate in net:
                    return str(net)
        return None

    def check_address(self, host: str, address: str) -> None:
        """Raise ``UrlRefusedError`` if ``address`` (resolved from ``host``) is denied."""
        net = self.denied_network(address)
        if net is not None:
            raise UrlRefusedError(
                f"webhook host {host!r} resolves to {address}, inside the denied network {net} "
                "(SUBLARR_WEBHOOK_DENY_NETWORKS)"
            )

    def resolve(self, host: str, port: int) -> list[str]:
        """Every address ``host`` resolves to, each checked; ``UrlRefusedError`` on a denied one.

        DNS failures raise ``OSError`` (a retryable connection problem).
        """
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            self.check_address(host, address)
        return addresses

    def check_url(self, url: str) -> list[str]:
        """Resolve the host of ``url`` and check it; return its addresses."""
        parts = urlsplit(url)
        if not parts.hostname:
            raise UrlRefusedError(f"URL {url!r} has no host")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return self.resolve(parts.hostname, port)


def connect(policy: UrlPolicy, host: str, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to ``host``: resolved, every address checked, first that answers.

    ``UrlRefusedError`` for a denied address; ``OSError`` when nothing can be reached.
    """
    last: OSError | None = None
    for address in policy.resolve(host, port):
        try:
            sock = socket.create_connection((address, port), timeout)
        except OSError as exc:
            last = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise last if last is not None else OSError(f"{host!r} resolves to no address")


class GuardedHTTPConnection(http.client.HTTPConnection):
    """An ``http.client`` connection that only opens sockets the policy allows."""

    def __init__(self, host: str, port: int, timeout: float, policy: UrlPolicy) -> None:
        super().__init__(host, port, timeout=timeout)
        self.policy = policy

    def connect(self) -> None:
        """Open the checked socket."""
        self.sock = connect(self.policy, self.host, self.port, self.timeout)


class GuardedHTTPSConnection(http.client.HTTPSConnection):
    """An ``http.client`` TLS connection (certificates verified) on a checked socket."""

    def __init__(self, host: str, port: int, timeout: float, policy: UrlPolicy) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.policy = policy

    def connect(self) -> None:
        """Open the checked socket and start TLS with the URL's host name."""
        sock = connect(self.policy, self.host, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
