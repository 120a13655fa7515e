"""The toolkit of domain packs: record references, declarative filters, access requirements, and
the aia.tool rows generated from the Python catalogue."""

from odoo.exceptions import AccessError
from odoo.fields import Domain
from odoo.tests import tagged

from ..ai_engine import ToolDenied, ToolInputError
from ..tools import CATALOGUE, Filter, OdooToolContext, RecordRef, Requires, apply_filters
from .common import AiaCase

CONTACT = RecordRef("res.partner", "contact", exact=("name", "ref"), fuzzy="complete_name")


@tagged("post_install", "-at_install")
class TestRecordRef(AiaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.cotton = Partner.create({"name": "Zq Cotton 100%"})
        cls.organic = Partner.create({"name": "Zq Cotton 100% organic"})
        cls.under = Partner.create({"name": "Zq A_B"})
        cls.axb = Partner.create({"name": "Zq AxB"})
        cls.env_user = cls.env(user=cls.user)

    def resolve(self, value, ref=CONTACT):
        return ref.resolve(self.env_user, value)

    def test_exact_names_are_matched_literally(self):
        # As LIKE patterns, "%" and "_" would match the other partner too (an ambiguity).
        self.assertEqual(self.resolve("zq cotton 100%"), self.cotton)
        self.assertEqual(self.resolve("Zq A_B"), self.under)
        self.assertEqual(self.resolve(self.axb.id), self.axb)

    def test_a_partial_name_must_match_one_record(self):
        self.assertEqual(self.resolve("organic"), self.organic)
        with self.assertRaises(ToolInputError) as caught:
            self.resolve("Zq Cotton")
        self.assertEqual(
            str(caught.exception),
            f"contact 'Zq Cotton' is ambiguous: Zq Cotton 100% (id {self.cotton.id}); "
            f"Zq Cotton 100% organic (id {self.organic.id}). Give the id or the exact name.",
        )

    def test_a_partial_name_is_matched_literally(self):
        # As LIKE patterns, "_" would also match "Zq AxB", and a bare "%" every contact.
        self.assertEqual(self.resolve("q A_"), self.under)
        scoped = RecordRef(
            "res.partner",
            "contact",
            exact=("name",),
            fuzzy="complete_name",
            domain=lambda env: Domain("id", "=", self.axb.id),
            list_known=False,
        )
        for pattern in ("%", "_", "Zq A_B"):
            with self.subTest(pattern=pattern), self.assertRaisesRegex(ToolInputError, "unknown contact"):
                self.resolve(pattern, scoped)

    def test_unknown_names_and_ids(self):
        scoped = RecordRef(
            "res.partner",
            "contact",
            domain=lambda env: Domain("id", "!=", self.axb.id),
            in_company=True,
            list_known=False,
        )
        for ref, value, message in (
            (CONTACT, "Nobody Zq", "unknown contact 'Nobody Zq'"),
            (CONTACT, "  ", "empty contact"),
            (scoped, self.axb.id, f"unknown contact id {self.axb.id} in company {self.company.name}"),
        ):
            with self.subTest(value=value), self.assertRaisesRegex(ToolInputError, message):
                self.resolve(value, ref)

    def test_filters_make_the_domain_and_the_echo(self):
        filters = (
            Filter("contact", CONTACT, "partner_id"),
            Filter("parent", CONTACT, "parent_id", "child_of"),
        )
        domain, echo, records = apply_filters(
            self.env_user, {"contact": "Zq AxB", "parent": None}, filters, Domain("active", "=", True)
        )
        self.assertEqual(domain, Domain("active", "=", True) & Domain("partner_id", "=", self.axb.id))
        self.assertEqual((echo, records), ({"contact": "Zq AxB"}, {"contact": self.axb}))


@tagged("post_install", "-at_install")
class TestRequires(AiaCase):
    def run_guarded(self, requires, user):
        handler = requires.guard("test.tool", lambda ctx, args: "ran")
        return OdooToolContext(self.env(user=user)).invoke(handler, {}, timeout=5)

    def test_a_missing_group_is_denied_before_the_handler_runs(self):
        requires = Requires(groups=("base.group_system",))
        with self.assertRaisesRegex(
            ToolDenied, "may not use test.tool: it requires the group Role / Administrator"
        ):
            self.run_guarded(requires, self.user)
        self.assertEqual(self.run_guarded(Requires(groups=("base.group_user",)), self.user), "ran")

    def test_requirements_are_told_in_words(self):
        requires = Requires(read=("res.partner",), groups=("base.group_system",))
        described = "read access to Contact; the group Role / Administrator"
        self.assertEqual(requires.describe(self.env), described)
        self.assertFalse(self.env.ref("ai_core.tool_orm_count").requirements)

    def test_a_model_the_user_may_not_read_is_denied(self):
        with self.assertRaises(ToolDenied):
            self.run_guarded(Requires(read=("ir.config_parameter",)), self.user)
        self.assertEqual(self.run_guarded(Requires(read=("res.partner",)), self.user), "ran")
        with self.assertRaises(AccessError):
            Requires(read=("ir.config_parameter",)).check(self.env(user=self.user), "test.tool")


@tagged("post_install", "-at_install")
class TestCatalogueRows(AiaCase):
    def test_rows_are_made_from_the_python_declarations(self):
        for name in ("orm.search_read", "orm.count", "orm.write"):
            spec = CATALOGUE.get(name)
            row = self.env.ref(f"ai_core.tool_{name.replace('.', '_')}")
            self.assertEqual(
                (row.name, row.label, row.description, row.mode, row.kind),
                (name, spec.display_name, spec.description, spec.mode, "python"),
            )

    def test_a_sync_keeps_what_an_administrator_set_and_restores_the_declaration(self):
        row = self.env.ref("ai_core.tool_orm_count")
        row.write({"active": False, "description": "Edited by hand"})
        self.env["aia.tool"]._aia_sync_catalogue("ai_core")
        self.assertFalse(row.active)
        self.assertEqual(row.description, CATALOGUE.get("orm.count").description)

    def test_a_row_of_an_older_version_is_taken_over_not_duplicated(self):
        row = self.env.ref("ai_core.tool_orm_count")
        self.env["ir.model.data"].search([("model", "=", "aia.tool"), ("res_id", "=", row.id)]).unlink()
        rows = self.env["aia.tool"]._aia_sync_catalogue("ai_core")
        self.assertIn(row, rows)
        self.assertEqual(self.env.ref("ai_core.tool_orm_count"), row)
        self.assertEqual(self.env["aia.tool"].search_count([("name", "=", "orm.count")]), 1)
