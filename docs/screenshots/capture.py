"""Take the README's screenshots of a served demo database (see ``seed_demo.py``) in Chromium.

Needs Playwright in an environment of its own (it requires a newer greenlet than Odoo pins):

    python -m venv /tmp/pw && /tmp/pw/bin/pip install playwright
    /tmp/pw/bin/python docs/screenshots/capture.py http://127.0.0.1:8069 IDS...

IDS: the ids ``seed_demo.py`` printed (the live chat's is 0 without ai_livechat_agent, the
workflow run's 0 or left out without ai_workflow_month_end). Logs in as the demo's admin.
"""

import pathlib
import sys

from playwright.sync_api import sync_playwright

OUT = pathlib.Path(__file__).parent
CHROMIUM = "/usr/bin/chromium"


def main(base, session_id, chat_id, customer_id, channel_id, live_chat_id, workflow_run_id=0):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/web/login")
        page.fill("input[name=login]", "admin")
        page.fill("input[name=password]", "admin")
        page.click("button[type=submit]")
        page.wait_for_url("**/odoo**")

        def shot(path, name, ready, then=None):
            page.goto(base + path)
            page.wait_for_selector(ready)
            if then:
                then()
            page.wait_for_timeout(1500)  # fonts and the last renders
            page.screenshot(path=OUT / f"{name}.png")

        def show_last():
            page.wait_for_timeout(4000)  # the "invited" notice goes
            page.evaluate("document.querySelectorAll('.o-mail-Thread').forEach(t => t.scrollTop = 1e9)")

        def open_session():
            page.click("text=Who owes us the most?")
            page.wait_for_selector(".o_aia_chat table")

        shot("/odoo/action-ai_core.aia_chat_action", "chat_rendered_answer", ".o_aia_chat", open_session)
        shot(
            f"/odoo/aia.session/{session_id}",
            "session_memory",
            ".o_form_view",
            lambda: page.click("a.nav-link:has-text('Memory')"),
        )
        shot("/odoo/action-ai_core.aia_memory_fact_action", "my_memory", ".o_list_view .o_data_row")
        shot(f"/odoo/discuss?active_id=discuss.channel_{chat_id}", "discuss_direct_chat", ".o-mail-Message")
        conversations = {"discuss_channel_mention": channel_id, "livechat_handover": live_chat_id}
        for name, channel in conversations.items():
            if int(channel):
                shot(f"/odoo/discuss?active_id=discuss.channel_{channel}", name, ".o-mail-Message", show_last)
        # Wide enough for the chatter to sit beside the form.
        page.set_viewport_size({"width": 1920, "height": 1000})
        shot(f"/odoo/res.partner/{customer_id}", "chatter_mention", ".o_form_view .o-mail-Message")
        if int(workflow_run_id):

            def open_outputs():
                # The live chat seeded above may have opened its chat window over the form.
                for close in page.locator(".o-mail-ChatWindow [title^='Close Chat Window']").all():
                    close.click()
                page.evaluate("document.querySelectorAll('.o_aia_task_output').forEach(d => d.open = true)")
                # Tall enough for the whole sheet (the form scrolls inside the page; its chatter
                # goes below the sheet, out of the picture).
                bottom = page.evaluate(
                    "document.querySelector('.o_form_sheet').getBoundingClientRect().bottom"
                )
                page.set_viewport_size({"width": 1280, "height": int(bottom) + 2})

            page.set_viewport_size({"width": 1280, "height": 800})
            shot(
                f"/odoo/action-ai_workflow.aia_workflow_run_action/{workflow_run_id}",
                "workflow_run",
                ".o_aia_run_timeline .o_aia_task",
                open_outputs,
            )
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:8])
