"""Running a Hoot suite from a Python HttpCase, and proving it really ran.

A browser test that lacks Chromium is skipped yet counted as passed, and an ``id`` that matches
no suite runs nothing: the run must report exactly the expected number of passed tests.
"""

import logging
import re


def hoot_id(name):
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


def run_hoot_suite(case, suite, tests):
    """Run the Hoot ``suite`` in Chromium for the HttpCase ``case``; assert ``tests`` passed."""
    collector = _Collect()
    browser_logger = case._logger.getChild("browser")
    browser_logger.addHandler(collector)
    case.addCleanup(browser_logger.removeHandler, collector)
    case.browser_js(
        f"/web/tests?headless&loglevel=2&timeout=30000&id={hoot_id(suite)}",
        "",
        "",
        login="admin",
        timeout=300,
        success_signal="[HOOT] Test suite succeeded",
        error_checker=lambda message: "[HOOT]" not in message,
    )
    passed = [re.search(r"Passed (\d+) tests", message) for message in collector.messages]
    counts = [int(match.group(1)) for match in passed if match]
    case.assertEqual(counts, [tests], f"the Hoot suite {suite} did not run all its tests")
