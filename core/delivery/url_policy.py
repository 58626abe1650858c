"""Which addresses outgoing webhooks may reach.

A URL is checked after DNS resolution: if any address its host resolves to lies in a denied
network, the delivery is refused. The default deny-list is link-local IPv4
(``169.254.0.0/16``, where cloud metadata services live) and link-local IPv6
(``fe80::/10``); loopback and private LAN addresses stay allowed, since a self-hosted
receiver usually lives there. ``SUBLARR_WEBHOOK_DENY_NETWORKS`` replaces the list.

Addresses are compared in every spelling that reaches the same host: an IPv4-mapped IPv6
address (``::ffff:a.b.c.d``) also counts as its IPv4 address, and an unspecified address
(``0.0.0.0/8``, ``::``, ``::ffff:0.0.0.0`` - spelled ``0``, ``0.0.0.0``, ``[::]``,
``[::ffff:0:0]`` ...), which a connect sends to the local host, also counts as loopback
(``127.0.0.1`` and ``::1``): when loopback is denied, so are they.

The check runs when a webhook is saved (``check_url``: a host that cannot be resolved now
is refused with a clear reason, not passed) and whenever a connection is opened
(``GuardedHTTPConnection``/``GuardedHTTPSConnection``): the host is resolved once, every
address checked, and the socket opened to a checked address, so a DNS answer that changes
between the check and the connect cannot slip through. At delivery a failed resolution is
a connection problem (retried), not a refusal.
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

# "This host" addresses: a connect to them reaches the local host, like loopback does.
_THIS_HOST_V4 = ipaddress.ip_network("0.0.0.0/8")
_LOOPBACK_EQUIVALENTS = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


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
        match = self._match(address)
        return None if match is None else match[1]

    def _match(self, address: str | IPAddress) -> tuple[IPAddress, str] | None:
        for candidate in equivalent_addresses(address):
            for net in self.deny_networks:
                if candidate.version == net.version and candidate in net:
                    return candidate, str(net)
        return None

    def check_address(self, host: str, address: str) -> None:
        """Raise ``UrlRefusedError`` if ``address`` (resolved from ``host``) is denied."""
        match = self._match(address)
        if match is not None:
            candidate, net = match
            reaches = "" if str(candidate) == address.split("%", 1)[0] else f" (which reaches {candidate})"
            raise UrlRefusedError(
                f"webhook host {host!r} resolves to {address}{reaches}, inside the denied network "
                f"{net} (SUBLARR_WEBHOOK_DENY_NETWORKS)"
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
        """Resolve the host of ``url`` now and check it; return its addresses.

        The check made when a webhook is saved: ``UrlRefusedError`` for a denied address,
        and also for a host that cannot be resolved now (its reason given), since nothing
        could be checked.
        """
        parts = urlsplit(url)
        try:
            host, port = parts.hostname, parts.port
        except ValueError as exc:  # a port out of range or not a number
            raise UrlRefusedError(f"URL {url!r} is not valid: {exc}") from None
        if not host:
            raise UrlRefusedError(f"URL {url!r} has no host")
        try:
            return self.resolve(host, port or (443 if parts.scheme == "https" else 80))
        except UrlRefusedError:
            raise
        except (OSError, UnicodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise UrlRefusedError(
                f"webhook host {host!r} cannot be resolved now ({reason}), so it cannot be "
                "checked against the deny-list (SUBLARR_WEBHOOK_DENY_NETWORKS); use a host "
                "that resolves, or an IP address"
            ) from None


def equivalent_addresses(address: str | IPAddress) -> list[IPAddress]:
    """``address`` and every address a connection to it reaches the same way.

    An IPv4-mapped IPv6 address adds its IPv4 address; an unspecified ("this host")
    address adds the loopback addresses ``127.0.0.1`` and ``::1``. A zone (``%eth0``) is
    ignored.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    out: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        out.append(ip.ipv4_mapped)
    if any(a.is_unspecified or (a.version == 4 and a in _THIS_HOST_V4) for a in out):
        out.extend(_LOOPBACK_EQUIVALENTS)
    return out


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
        self.tls_context = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls_context)
        self.policy = policy

    def connect(self) -> None:
        """Open the checked socket and start TLS with the URL's host name."""
        sock = connect(self.policy, self.host, self.port, self.timeout)
        self.sock = self.tls_context.wrap_socket(sock, server_hostname=self.host)
