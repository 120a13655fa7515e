from odoo.tests import HttpCase, tagged

from odoo.addons.ai_core.tests.hoot import run_hoot_suite

# The Hoot suite of ai_automation/static/tests/sessions_box.test.js and how many tests it holds:
# the run must report exactly these, so a filter that matches nothing cannot pass.
HOOT_SUITE = "@ai_automation/sessions_box"
HOOT_TESTS = 5


@tagged("post_install", "-at_install")
class TestSessionsBoxUi(HttpCase):
    def test_hoot_sessions_box(self):
        """Runs the chatter box's Hoot suite in Chromium (mocked server and bus)."""
        run_hoot_suite(self, HOOT_SUITE, HOOT_TESTS)
