"""The process-wide tool catalogue, the Odoo implementations of the engine's tool ports, and the
toolkit domain packs build their tools with.

Domain modules declare handlers with ``@tool(...)`` from ``odoo.addons.ai_core.tools`` and call
``aia.tool._aia_sync_catalogue(<module>)`` from their data: the rows that make the tools
selectable on agents are generated from the declarations.
"""

from . import memory_tools, orm_tools, toolkit
from .catalogue import CATALOGUE, tool
from .context import OdooToolContext
from .toolkit import Filter, RecordRef, Requires, apply_filters

__all__ = [
    "CATALOGUE",
    "Filter",
    "OdooToolContext",
    "RecordRef",
    "Requires",
    "apply_filters",
    "memory_tools",
    "orm_tools",
    "tool",
    "toolkit",
]
