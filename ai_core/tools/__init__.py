"""The process-wide tool catalogue and the Odoo implementations of the engine's tool ports.

Domain modules declare handlers with ``@tool(...)`` from ``odoo.addons.ai_core.tools`` and ship an
``aia.tool`` record of the same name; the record makes the tool selectable on agents.
"""

from . import orm_tools
from .catalogue import CATALOGUE, tool
from .context import OdooToolContext

__all__ = ["CATALOGUE", "OdooToolContext", "orm_tools", "tool"]
