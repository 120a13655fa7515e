from markupsafe import Markup

from odoo.addons.ai_core.tests.common import AiaCase, perform_jobs
from odoo.addons.queue_job.tests.common import trap_jobs


class DiscussCase(AiaCase):
    """The Assistant agent of AiaCase, available in Discuss; the provider is the scripted model."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent.discuss_available = True
        cls.bot = cls.agent.partner_id

    def post(self, thread, body, user=None, jobs=1, **values):
        """Post ``body`` (HTML) on ``thread`` as ``user`` the way Discuss and the chatter do (with
        superuser rights, as the user), then run the turn jobs it queued (``jobs`` of them);
        returns the message."""
        user = user or self.user
        values.setdefault("message_type", "comment")
        values.setdefault("subtype_xmlid", "mail.mt_comment")
        with trap_jobs() as trap:
            message = thread.with_user(user).sudo().message_post(body=Markup(body), **values)
            trap.assert_jobs_count(jobs)
            perform_jobs(self, trap)
            # The agents' answers, posted by the jobs, queue no turn (no loops).
            self.assertEqual(trap.enqueued_jobs, [])
        return message

    def agent_messages(self, thread, agent=None):
        """The messages ``agent`` (default: the Assistant) posted on ``thread``, oldest first."""
        partner = (agent or self.agent).partner_id
        return thread.message_ids.filtered(lambda m: m.author_id == partner).sorted("id")

    def sessions(self, thread, user=None):
        return self.env["aia.session"].search(
            [
                ("discuss_model", "=", thread._name),
                ("discuss_id", "=", thread.id),
                ("user_id", "=", (user or self.user).id),
            ]
        )
