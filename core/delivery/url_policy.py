"""Which addresses outgoing webhooks may reach.

A URL is checked after DNS resolution: if any address its host resolves to lies in a denied
network, the delivery is refused. The default deny-list is link-local IPv4
(``169.254.0.0/16``, where cloud metadata services live) and link-local IPv6
(``fe80::/10``); loopback and private LAN addresses stay allowed, since a self-hosted
receiver usually lives there. ``SUBLARR_WEBHOOK_DENY_NETWORKS`` replaces the list.

The check runs twice: before a request (for a clear error) and again on the socket
actually opened (``GuardedBackend``), so a DNS answer that changes in between cannot
slip through.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpcore

from ..errors import SublarrError

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


class GuardedBackend(httpcore.SyncBackend):
    """An httpcore network backend that connects only to addresses the policy allows."""

    def __init__(self, policy: UrlPolicy) -> None:
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Resolve ``host``, refuse denied addresses, connect to the first that answers."""
        try:
            addresses = self.policy.resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host!r}: {exc}") from exc
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last
