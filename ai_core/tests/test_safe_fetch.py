import ipaddress

from odoo.tests import TransactionCase, tagged

from .. import safe_fetch


@tagged("post_install", "-at_install")
class TestAddressRules(TransactionCase):
    """Which addresses a fetch refuses by default, and what the administrator's list opens."""

    def test_internal_addresses_are_refused_and_public_ones_pass(self):
        refused = {
            "127.0.0.1": "loopback",
            "127.3.2.1": "loopback",
            "::1": "loopback",
            "10.1.2.3": "private",
            "172.16.0.1": "private",
            "192.168.1.10": "private",
            "fc00::1": "private",
            "169.254.1.1": "link-local",
            "fe80::1": "link-local",
            "169.254.169.254": "cloud metadata",
            "fd00:ec2::254": "cloud metadata",
            "100.100.100.200": "cloud metadata",
            "224.0.0.1": "multicast",
            "ff02::1": "multicast",
            "0.0.0.0": "unspecified",
            "::": "unspecified",
            "240.0.0.1": "reserved",
            "100.64.0.1": "not a public address",
            # IPv6 forms carrying an IPv4 address are judged by that address.
            "::ffff:127.0.0.1": "loopback",
            "::ffff:169.254.169.254": "cloud metadata",
            "::ffff:10.0.0.1": "private",
            "2002:7f00:1::": "loopback",
            "64:ff9b::a9fe:a9fe": "cloud metadata",
        }
        for address, reason in refused.items():
            with self.subTest(address=address):
                self.assertIn(reason, safe_fetch.refusal(address) or "public")
        for address in ("93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
            with self.subTest(address=address):
                self.assertIsNone(safe_fetch.refusal(address))

    def test_the_allowlist_opens_host_names_addresses_and_networks(self):
        allowlist = safe_fetch.Allowlist.parse("Intranet.Example.com., 10.1.2.3\n172.16.0.0/12  [fd12::1]")
        ip = ipaddress.ip_address
        self.assertTrue(allowlist.allows("intranet.example.com", ip("10.9.9.9")))
        self.assertFalse(allowlist.allows("sub.intranet.example.com", ip("10.9.9.9")))
        self.assertTrue(allowlist.allows("other.example.com", ip("10.1.2.3")))
        self.assertTrue(allowlist.allows("other.example.com", ip("::ffff:10.1.2.3")))
        self.assertFalse(allowlist.allows("other.example.com", ip("10.1.2.4")))
        self.assertTrue(allowlist.allows("other.example.com", ip("172.20.1.1")))
        self.assertTrue(allowlist.allows("other.example.com", ip("fd12::1")))
        # A network never opens the metadata service by accident; naming its address does.
        wide = safe_fetch.Allowlist.parse("169.254.0.0/16")
        self.assertTrue(wide.allows("printer.local", ip("169.254.7.7")))
        self.assertFalse(wide.allows("evil.example", ip("169.254.169.254")))
        self.assertTrue(safe_fetch.Allowlist.parse("169.254.169.254").allows("x", ip("169.254.169.254")))
