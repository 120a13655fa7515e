"""Which addresses the suite's one outbound fetch (:mod:`safe_fetch`) may reach: every address that
is not public is refused (loopback, private, link-local, multicast, reserved, unspecified, shared,
cloud metadata; IPv6 forms that embed an IPv4 address judged by that address) unless an
administrator opened it in the system parameter ``aia.fetch_allowed_hosts``."""

import ipaddress
from dataclasses import dataclass

__all__ = ["ALLOWED_HOSTS_PARAM", "METADATA_ADDRESSES", "Allowlist", "refusal"]

ALLOWED_HOSTS_PARAM = "aia.fetch_allowed_hosts"
# Instance metadata services (AWS, GCP, Azure, OpenStack, ECS task role, Alibaba, Oracle).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
# NAT64's well-known prefix maps the whole IPv4 space (RFC 6052).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Allowlist:
    """The host names, addresses and networks an administrator opened to fetches.

    Build it with :meth:`parse` (the system parameter's text) or :meth:`from_env`.
    """

    hosts: frozenset = frozenset()
    networks: tuple = ()

    @classmethod
    def parse(cls, text):
        """Entries separated by commas, spaces or new lines: ``intranet.example.com``, ``10.1.2.3``,
        ``10.0.0.0/8``, ``fd12::/16``. Host names match exactly (no subdomains)."""
        hosts, networks = set(), []
        for entry in (text or "").replace(",", " ").split():
            entry = entry.strip().lower().strip("[]").rstrip(".")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry)
        return cls(frozenset(hosts), tuple(networks))

    @classmethod
    def from_env(cls, env):
        """The allowlist of the system parameter (administrators set it; anyone's fetch reads it)."""
        return cls.parse(env["ir.config_parameter"].sudo().get_param(ALLOWED_HOSTS_PARAM, ""))

    def allows(self, host, address):
        """Whether ``address``, one of ``host``'s, was opened by an administrator."""
        if host.lower().rstrip(".") in self.hosts:
            return True
        candidates = {address, _embedded_ipv4(address)} - {None}
        if address in METADATA_ADDRESSES or _embedded_ipv4(address) in METADATA_ADDRESSES:
            # A network as wide as 169.254.0.0/16 does not open the metadata service by accident.
            return any(net.num_addresses == 1 and net.network_address in candidates for net in self.networks)
        return any(
            candidate in net
            for candidate in candidates
            for net in self.networks
            if net.version == candidate.version
        )


def refusal(address):
    """Why ``address`` is refused by default, e.g. ``"a loopback address"``; None for a public one.

    Args:
        address: An ``ipaddress`` address or its text.
    """
    address = ipaddress.ip_address(address) if isinstance(address, str) else address
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return refusal(embedded)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_unspecified", "an unspecified address"),
        ("is_reserved", "a reserved address"),
        ("is_private", "a private address"),
    )
    for attribute, reason in checks:
        if getattr(address, attribute):
            return reason
    if not address.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(address):
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), else None."""
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None
