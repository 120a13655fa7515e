import logging
import re

from odoo.tests import HttpCase, tagged

# The Hoot suite of ai_automation/static/tests/sessions_box.test.js and how many tests it holds:
# the run must report exactly these, so a filter that matches nothing cannot pass.
HOOT_SUITE = "@ai_automation/sessions_box"
HOOT_TESTS = 5


def _hoot_id(name):
    """Hoot's job id of a suite or test: the hash its runner uses in ``?id=`` URLs."""
    value = 0
    for char in name:
        value = ((value << 5) - value + ord(char)) & 0xFFFFFFFF
    return f"{value:08x}"


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@tagged("post_install", "-at_install")
class TestSessionsBoxUi(HttpCase):
    def test_hoot_sessions_box(self):
        """Runs the chatter box's Hoot suite in Chromium (mocked server and bus)."""
        collector = _Collect()
        browser_logger = self._logger.getChild("browser")
        browser_logger.addHandler(collector)
        self.addCleanup(browser_logger.removeHandler, collector)
        self.browser_js(
            f"/web/tests?headless&loglevel=2&timeout=30000&id={_hoot_id(HOOT_SUITE)}",
            "",
            "",
            login="admin",
            timeout=300,
            success_signal="[HOOT] Test suite succeeded",
            error_checker=lambda message: "[HOOT]" not in message,
        )
        passed = [re.search(r"Passed (\d+) tests", message) for message in collector.messages]
        counts = [int(match.group(1)) for match in passed if match]
        self.assertEqual(counts, [HOOT_TESTS], "the Hoot suite did not run all its tests")
