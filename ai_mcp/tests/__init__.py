from . import test_mcp_client, test_mcp_server
