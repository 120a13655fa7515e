from odoo.tests import HttpCase, tagged

from odoo.addons.ai_core.tests.hoot import run_hoot_suite

# The Hoot suite of ai_workflow/static/tests/run_timeline.test.js, and how many tests it holds: the
# run must report exactly these, so a filter that matches nothing cannot pass.
HOOT_SUITE = "@ai_workflow/run_timeline"
HOOT_TESTS = 6


@tagged("post_install", "-at_install")
class TestRunTimelineUi(HttpCase):
    def test_hoot_run_timeline(self):
        """Runs the run timeline widget's Hoot suite in Chromium (mocked server, simulated bus)."""
        run_hoot_suite(self, HOOT_SUITE, HOOT_TESTS)
