"""The case of the REST API's tests: two users and an operator with API keys, fresh limiters."""

import json

from odoo.tests import HttpCase

from ..controllers.helpers import AUTH_FAILURES, RATE_LIMITER
from .common import AiaCase

CHAT = "/aia/v1/agents/assistant/chat"
STREAM = "/aia/v1/agents/assistant/chat/stream"
EXECUTIONS = "/aia/v1/agents/assistant/executions"
# The API's modules log under this package (the request line: controllers.helpers).
LOGGER = "odoo.addons.ai_core.controllers"


def parse_sse(text):
    """[(event, data)] of a text/event-stream body."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


class ApiCase(AiaCase, HttpCase):
    """``user`` and ``user2`` (AI users of the company) and ``operator`` call the API with the
    keys ``key``, ``key2`` and ``operator_key``."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user2 = cls.make_user("aia_user_2", "ai_core.group_aia_user")
        cls.key = cls.api_key(cls.user)
        cls.key2 = cls.api_key(cls.user2)
        cls.operator_key = cls.api_key(cls.operator)

    def setUp(self):
        super().setUp()
        # The limiters live in the process: every test starts with fresh windows.
        for limiter in (RATE_LIMITER, AUTH_FAILURES):
            limiter.reset()
            self.addCleanup(limiter.reset)

    def call(self, path, body=None, key=None, header="Authorization", headers=None, method=None):
        """The API's answer to ``path`` (see :meth:`~.common.AiaCase.call_api`)."""
        return self.call_api(path, body, key, header, headers, method)

    def sessions_of(self, user):
        return self.env["aia.session"].search([("user_id", "=", user.id)])
