"""Where a "Run AI Agent" action's records come from when it is not run on records (a scheduled
action): a domain or Python code, checked when the action is saved and evaluated when it runs."""

import ast
import logging

from odoo import models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools.safe_eval import safe_eval, test_python_expr

from .prompt import error_text

_logger = logging.getLogger(__name__)


def source_error(action):
    """Why the action's record source is invalid, or False."""
    return _code_error(action) if action.aia_record_source == "code" else _domain_error(action)


def _domain_error(action):
    if not action.model_id:
        return False
    try:
        domain = safe_eval(action.aia_domain or "[]", action._get_eval_context(action))
        Domain(domain).validate(action.env[action.model_id.model])
    except Exception as exc:  # noqa: BLE001 - any invalid domain is a warning, never a crash
        return action.env._("The domain is invalid: %(error)s", error=error_text(exc))
    return False


def _code_error(action):
    code = (action.sudo().aia_code or "").strip()
    if not code:
        return action.env._("The records code is empty: it must assign the records to `records`.")
    error = test_python_expr(expr=code, mode="exec")
    if error:
        return action.env._("The records code is invalid: %(error)s", error=error)
    if not _assigns_name(code, "records"):
        return action.env._("The records code never assigns `records`.")
    return False


def source_records(action, eval_context):
    """The records of the configured source; an empty recordset when it fails (and why, saved)."""
    action.ensure_one()
    model = action.env[action.model_id.model]
    try:
        with action.env.cr.savepoint():
            if action.aia_record_source == "code":
                local = dict(eval_context, records=None)
                safe_eval((action.sudo().aia_code or "").strip(), local, mode="exec", filename=str(action))
                records = local.get("records")
                if not isinstance(records, models.BaseModel) or records._name != model._name:
                    raise UserError(
                        action.env._(
                            "the code must assign a recordset of %(model)s to `records`, not %(value)r.",
                            model=model._name,
                            value=records,
                        )
                    )
            else:
                domain = safe_eval(action.aia_domain or "[]", eval_context)
                records = eval_context["env"][model._name].search(
                    Domain(domain), limit=action.aia_max_records or None
                )
    except Exception as exc:  # noqa: BLE001 - an invalid source selects nothing, the warning says why
        error = error_text(exc)
        _logger.warning("server action %s: the record source failed: %s", action.id, error)
        if action.aia_source_error != error:
            action.sudo().aia_source_error = error
        return model
    if action.aia_source_error:
        action.sudo().aia_source_error = False
    return records


def _assigns_name(code, name):
    """Whether ``code`` assigns ``name`` anywhere (``records = ...``, ``records |= ...``)."""
    for node in ast.walk(ast.parse(code)):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr)):
            targets = [node.target]
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name) and leaf.id == name:
                    return True
    return False
