from . import aia_mcp_server, aia_session, aia_tool
