"""Which webhook URLs the exchange calls: http(s) to public addresses only.

A URL that resolves to a loopback, private, link-local, shared, reserved or
multicast address would let a participant make the exchange call its own network
(server-side request forgery), so it is refused when saved and again when sent.
Between the two a DNS answer can change (DNS rebinding), so the sender resolves
once, checks every address it got, and connects to a checked address itself
(`Target.address`), never letting the HTTP client resolve the name again.
`NOTIFICATIONS_ALLOW_LOOPBACK` (tests only) lets loopback through.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from market.exceptions import MarketError

# Looked up through this name, so tests replace DNS resolution and nothing else.
getaddrinfo = socket.getaddrinfo
SCHEMES = {"http": 80, "https": 443}

type Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeWebhookUrl(MarketError):
    """The webhook URL is not one the exchange calls."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # as written: the Host header, and the TLS server name
    port: int
    path: str  # path and query
    address: str  # the checked address to connect to

    def url(self) -> str:
        """The URL to request: the checked address in place of the name."""
        ip = ipaddress.ip_address(self.address)
        host = f"[{ip}]" if ip.version == 6 else str(ip)
        return f"{self.scheme}://{host}:{self.port}{self.path}"

    def host_header(self) -> str:
        default = SCHEMES[self.scheme] == self.port
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if default else f"{host}:{self.port}"


def webhook_target(url: str) -> Target:
    """Resolve `url` and check every address it resolves to. Raises UnsafeWebhookUrl
    with a message that says what is wrong."""
    try:
        parts = urlsplit(url)
        port = parts.port or SCHEMES.get(parts.scheme, 0)
    except ValueError as exc:
        raise _refused(_("The webhook URL is not valid.")) from exc
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise _refused(_("The webhook URL must start with https:// or http://."))
    if parts.username or parts.password:
        raise _refused(_("The webhook URL must not carry a user name or password."))
    host = parts.hostname
    addresses = _resolve(host, port)
    for address in addresses:
        reason = _not_public(address)
        if reason:
            raise _refused(
                _(
                    "The webhook URL resolves to %(address)s, %(reason)s; webhooks "
                    "are sent only to public internet addresses."
                )
                % {"address": address, "reason": reason}
            )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port, path, str(addresses[0]))


def _resolve(host: str, port: int) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise _refused(
            _("The webhook host %(host)s could not be resolved.") % {"host": host}
        ) from exc
    found = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not found:
        raise _refused(
            _("The webhook host %(host)s could not be resolved.") % {"host": host}
        )
    return list(dict.fromkeys(found))


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded(address: Address) -> Address:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4, Teredo), which
    is where it leads."""
    if not isinstance(address, ipaddress.IPv6Address):
        return address
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    return address


def _not_public(address: Address) -> str:
    """Why the exchange may not call this address, or ""."""
    address = _embedded(address)
    if address.is_loopback:
        if settings.NOTIFICATIONS_ALLOW_LOOPBACK:
            return ""
        return _("a loopback address")
    if address.is_link_local:
        return _("a link-local address")
    if address.is_private:
        return _("a private address")
    if address.is_multicast or address.is_unspecified or not address.is_global:
        return _("not a public address")
    return ""


def _refused(message: str) -> UnsafeWebhookUrl:
    return UnsafeWebhookUrl(message, fields={"webhook_url": [message]})
