"""Where a webhook may be sent: addresses on the public internet only, unless the operator names
networks of their own (`OPSFLOW_WEBHOOK_ALLOWED_NETWORKS`, e.g. `["10.20.0.0/16"]` for an on-premise
receiver). Otherwise a webhook is a way to make the server POST into its own network: its loopback
(`localhost`, `127.1`, `2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`), the private ranges, link-local
addresses (cloud metadata at 169.254.169.254) and anything else that is not globally routable.

The check runs twice: when a URL is saved (a clear 422 for an address written into it, or a name that
resolves to a refused one), and at every delivery, where the name is resolved again and the request is
sent to the very address that was checked (a name that now resolves elsewhere, DNS rebinding, cannot
slip past between the check and the connection).
"""

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = ipaddress.IPv4Address("127.0.0.1")


class RefusedTarget(Exception):
    """The URL leads to an address webhooks may not reach (or to none at all)."""


@dataclass(frozen=True)
class Target:
    """A checked destination: connect to `address`, speak to `host` (Host header, TLS name)."""

    url: str  # the URL with the checked address in place of the name
    host: str
    address: Address


class TargetPolicy:
    def __init__(self, allowed_networks: Iterable[str] = ()) -> None:
        self.allowed: tuple[Network, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in allowed_networks
        )

    def check_url(self, url: str) -> None:
        """On saving a URL: refuse an address written into it in any spelling, or a name that resolves
        to a refused address. A name that does not resolve (yet) is left to the delivery's check."""
        host = _host(url)
        literal = _literal_address(host)
        if literal is not None:
            self._check(literal, host)
            return
        try:
            addresses = _resolve(host, urlsplit(url).port)
        except RefusedTarget:
            return
        for address in addresses:
            self._check(address, host)

    def resolve(self, url: str) -> Target:
        """On delivering: the one checked address to connect to (every address the name has must pass)."""
        host = _host(url)
        literal = _literal_address(host)
        addresses = [literal] if literal is not None else _resolve(host, urlsplit(url).port)
        for address in addresses:
            self._check(address, host)
        address = addresses[0]
        parts = urlsplit(url)
        netloc = f"[{address}]" if address.version == 6 else str(address)
        if parts.port is not None:
            netloc += f":{parts.port}"
        if "@" in parts.netloc:  # credentials in the URL go along
            netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
        return Target(parts._replace(netloc=netloc).geturl(), host, address)

    def _check(self, address: Address, host: str) -> None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.allowed):
            return
        if not address.is_global or address.is_multicast:
            raise RefusedTarget(
                f"{host} is {address}, a loopback, private, link-local or reserved address; webhooks "
                "reach public addresses only, unless OPSFLOW_WEBHOOK_ALLOWED_NETWORKS names its network"
            )


def _host(url: str) -> str:
    host = urlsplit(url).hostname
    if not host:
        raise RefusedTarget("the URL names no host")
    return host.rstrip(".").lower()


def _literal_address(host: str) -> Address | None:
    """An address written into the URL, however it is spelled: dotted, as one number (2130706433), in
    hex or octal parts (0x7f.1, 0177.0.0.1), shortened (127.1), or IPv6 (with a zone); and `localhost`,
    which names this machine whatever a resolver says."""
    if host == "localhost" or host.endswith(".localhost"):
        return LOOPBACK
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:  # the spellings inet_aton accepts are the ones resolvers and browsers accept too
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def _resolve(host: str, port: int | None) -> list[Address]:
    try:
        found = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise RefusedTarget(f"cannot resolve {host}: {exc}") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found))
    if not addresses:
        raise RefusedTarget(f"cannot resolve {host}")
    return addresses
