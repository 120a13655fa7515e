"""What the generic ORM tools may touch: the one place that decides, asked by every ``orm.*`` tool.

On top of the session user's own access rights and record rules (which still apply), an agent:

1. never uses a configuration or security model, whatever its allowlist and whoever the session's
   user (an administrator included): system parameters, API keys, access rights, record rules,
   groups, actions and crons, modules, views, the model registry, two-factor and passkey devices,
   payment and mail-server credentials, the suite's providers, and any model that stores
   credentials only administrators may see (API keys, tokens). Attachments only of records of the
   models the agent allows;
2. never reads, filters, groups, orders by or writes a secret field (passwords, tokens, keys, fields
   only administrators or nobody may see), nor a field restricted by ``groups=`` that the session's
   user lacks (Odoo checks those on read, write, order, group-by and stored-field filters, but not
   through a computed field's search method, nor on a path an ``any!`` lets bypass access);
3. never leaves the models it allows through a dotted path (domains, fields, group-bys, orders) or
   through the create / update commands of a relational value.

A refusal raises :class:`ToolDenied`: the model gets it as a tool result, never a crash.
"""

import re

from odoo.fields import Domain

from ..ai_engine import ToolDenied, ToolInputError

ATTACHMENT = "ir.attachment"
# Refused whatever the allowlist: configuration, security and credential models.
DENIED_MODELS = frozenset(
    {
        "aia.provider",
        "fetchmail.server",
        "iap.account",
        "mail.guest",
        "mail.ice.server",
        "mail.mail",
        "payment.provider",
        "payment.token",
        "res.device",
        "res.device.log",
        "res.users.identitycheck",
        "res.users.log",
    }
)
# Every ``ir.*`` model (parameters, access rights, rules, crons, actions, views, modules, the model
# registry, mail servers, ...) except attachments, and the families below.
DENIED_PREFIXES = (
    "ir.",
    "res.groups",
    "res.users.apikeys",
    "res.config",
    "auth_totp",
    "auth.totp",
    "auth_passkey",
    "auth.passkey",
    "auth.oauth",
    "base.module",
    "change.password",
    "google.gmail",
    "microsoft.outlook",
    "queue.job",
)
# Field names that hold credentials, on any model.
SECRET_NAME = re.compile(
    r"password|passwd|secret|api_?key|private_?key|passphrase|credential|signup_url|(^|_)token$|(^|_)pin$",
    re.IGNORECASE,
)
ADMIN_GROUP = "base.group_system"
NO_ACCESS = "."
TEXT_TYPES = {"char", "text", "html", "json", "binary"}
BYPASS_OPERATORS = {"any!", "not any!"}
SUBDOMAIN_OPERATORS = {"any", "not any"}
ID_OPERATORS = {"=", "!=", "in", "not in"}


def model_refusal(env, name):
    """Why agents may never use model ``name``, or None when its allowlist decides.

    Args:
        env: Any environment of the database (only the registry is read).
        name: A technical model name.
    """
    if name == ATTACHMENT:
        return None
    if name in DENIED_MODELS or name.startswith(DENIED_PREFIXES):
        return f"model {name!r} holds configuration or security data: agents may never use it"
    model = env[name]
    if model._transient or model._abstract:
        return f"model {name!r} is not a business model: agents may never use it"
    for field in model._fields.values():
        if field.store and field.type in TEXT_TYPES and _admin_only(field) and SECRET_NAME.search(field.name):
            return f"model {name!r} stores credentials ({field.name}): agents may never use it"
    return None


def field_refusal(model, field, operation="read"):
    """Why agents may never touch ``field`` of ``model`` (as the model's user), or None.

    Args:
        model: A recordset of the model, bound to the session's user.
        field: One of the model's fields.
        operation: ``read`` (read, filter, group, order) or ``write``.
    """
    target = field
    while target is not None:
        if SECRET_NAME.search(target.name) or _admin_only(target):
            return (
                f"field {field.name!r} of {model._name} is a secret or administrator-only: "
                "agents may never touch it"
            )
        target = target.related_field if target.related else None
    if not model._has_field_access(field, operation):
        return f"field {field.name!r} of {model._name} is restricted to groups the session's user lacks"
    if field.relational and model_refusal(model.env, field.comodel_name) is not None:
        return (
            f"field {field.name!r} of {model._name} links to {field.comodel_name}, which agents may never use"
        )
    return None


def _admin_only(field):
    """Whether only administrators (or nobody) may see ``field`` (``groups`` is a list of options)."""
    return field.groups in (NO_ACCESS, ADMIN_GROUP)


class OrmPolicy:
    """The rules above for one agent (its allowed models) and one session user (``env``).

    Args:
        env: The session user's environment (never sudo).
        allowed_models: The model names the agent's allowlist holds.
    """

    def __init__(self, env, allowed_models):
        self.env = env
        self.allowed = frozenset(
            name for name in allowed_models if name in env and model_refusal(env, name) is None
        )
        self._listed = frozenset(allowed_models)

    # === MODELS === #

    def model(self, name):
        """The session user's recordset of ``name``; refuses a model the agent may not use."""
        if name not in self._listed:
            allowed = ", ".join(sorted(self.allowed)) or "none"
            raise ToolInputError(f"model {name!r} is not allowed for this agent (allowed: {allowed})")
        if name not in self.env:
            raise ToolInputError(f"model {name!r} does not exist")
        refusal = model_refusal(self.env, name)
        if refusal:
            raise ToolDenied(refusal)
        return self.env[name]

    def scope(self, model):
        """The domain every search of ``model`` is restricted to (attachments: allowed models)."""
        if model._name == ATTACHMENT:
            return Domain("res_model", "in", sorted(self.allowed - {ATTACHMENT}))
        return Domain.TRUE

    # === FIELD PATHS === #

    def path(self, model, path, operation="read"):
        """Check a field path such as ``partner_id.country_id.code`` from ``model``.

        Every field on the way must be touchable, and every model the path goes through must be one
        the agent allows. A non-relational field ends the walk (the rest is a property, a date part).

        Returns:
            The model and field the path ends on.
        """
        names = path.split(".")
        current = model
        for index, name in enumerate(names):
            field = current._fields.get(name)
            if field is None:
                raise ToolInputError(f"unknown field {name!r} on {current._name} (in {path!r})")
            refusal = field_refusal(current, field, operation)
            if refusal:
                raise ToolDenied(refusal)
            last = index == len(names) - 1
            if last or not field.relational:
                return current, field
            current = self._comodel(field, path)
        return current, field

    def _comodel(self, field, path):
        """The comodel a path or a relational command goes into, if the agent may use it."""
        if field.comodel_name not in self.allowed:
            raise ToolDenied(
                f"{path!r} leaves the models this agent may use: {field.comodel_name} is not one of them"
            )
        if field.comodel_name == ATTACHMENT:  # the scope applies to searches of attachments only
            raise ToolDenied(f"{path!r} goes into attachments: search ir.attachment itself instead")
        return self.env[field.comodel_name]

    def fields(self, model, names):
        """Fields a read may return: the model's own, touchable ones."""
        for name in names:
            self.path(model, name)
            if "." in name:
                raise ToolInputError(f"fields must be fields of {model._name} itself, not paths: {name!r}")

    def domain(self, model, domain):
        """The parsed ``domain``, checked, and restricted to :meth:`scope`."""
        try:
            parsed = Domain(domain or [])
        except (ValueError, TypeError, KeyError) as exc:
            raise ToolInputError(f"invalid domain {domain!r}: {exc}") from None
        self._check_domain(model, parsed)
        try:
            parsed.validate(model)
        except (ValueError, TypeError, KeyError) as exc:
            raise ToolInputError(f"invalid domain {domain!r}: {exc}") from None
        return parsed & self.scope(model)

    def _check_domain(self, model, domain):
        for condition in domain.iter_conditions():
            field_expr, operator, value = condition.field_expr, condition.operator, condition.value
            if operator in BYPASS_OPERATORS:
                raise ToolDenied(f"operator {operator!r} bypasses access rights: agents may not use it")
            owner, field = self.path(model, field_expr)
            if not field.relational:
                continue
            if operator in SUBDOMAIN_OPERATORS:
                comodel = self._comodel(field, field_expr)
                try:
                    subdomain = Domain(value)
                except (ValueError, TypeError, KeyError) as exc:
                    raise ToolInputError(f"invalid domain {value!r}: {exc}") from None
                self._check_domain(comodel, subdomain)
            elif field.comodel_name not in self.allowed and not _ids_only(operator, value):
                # A name, a hierarchy, a pattern: it would search the other model.
                raise ToolDenied(
                    f"{field_expr!r} of {owner._name} may only be compared with ids: "
                    f"{field.comodel_name} is not a model this agent may use"
                )

    def groupby(self, model, specs):
        for spec in specs:
            self.path(model, spec.split(":", 1)[0])

    def aggregates(self, model, specs):
        for spec in specs:
            if spec != "__count":
                self.path(model, spec.split(":", 1)[0])

    def order(self, model, order):
        for term in (order or "").split(","):
            match = re.match(r"\s*([\w.:]+)", term)
            if match and match[1] != "__count":
                self.path(model, match[1].split(":", 1)[0])

    # === WRITES === #

    def values(self, model, values, create=False):
        """Check the values of a create (``create``) or write, relational commands included."""
        if not isinstance(values, dict):
            raise ToolInputError(f"values for {model._name} must be an object")
        for name, value in values.items():
            if "." in name:
                raise ToolInputError(f"unknown field {name!r} on {model._name}")
            _owner, field = self.path(model, name, "write")
            if field.type in ("one2many", "many2many"):
                self._commands(field, value)
        if model._name == ATTACHMENT and (create or "res_model" in values):
            if values.get("res_model") not in self.allowed - {ATTACHMENT}:
                raise ToolDenied(
                    "attachments may only belong to records of models this agent may use, "
                    f"not {values.get('res_model')!r}"
                )

    def _commands(self, field, commands):
        if not isinstance(commands, (list, tuple)):
            return
        for command in commands:
            if not isinstance(command, (list, tuple)) or not command:
                continue  # a plain id: a link
            if command[0] in (0, 1, 2):  # create, update, delete records of the comodel
                comodel = self._comodel(field, field.name)
                if command[0] != 2 and len(command) > 2:
                    self.values(comodel, command[2], create=command[0] == 0)

    def records(self, model, ids):
        """The records of ``ids`` within :meth:`scope` the user may see: a search, so record rules
        apply (``exists()`` ignores them, and an access error on another company's record would
        name it)."""
        domain = Domain("id", "in", list(ids)) & self.scope(model)
        return model.with_context(active_test=False).search(domain).with_env(model.env)


def _ids_only(operator, value):
    if operator not in ID_OPERATORS:
        return False
    values = value if isinstance(value, (list, tuple)) else [value]
    return all(
        item is False or item is None or (isinstance(item, int) and not isinstance(item, bool))
        for item in values
    )
