# The mixins first: Odoo builds the models inheriting them after them.
from . import aia_secret_mixin, aia_setup_mixin

# isort: split
from . import (
    aia_agent,
    aia_agent_version,
    aia_approval,
    aia_memory_fact,
    aia_message,
    aia_model,
    aia_provider,
    aia_session,
    aia_tool,
    aia_tool_execution,
    aia_usage_event,
    res_company,
    res_config_settings,
)
