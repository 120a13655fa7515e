-- AI agents MCP: a copied database must not call outside MCP servers with production secrets.
UPDATE aia_mcp_server
   SET headers = NULL,
       active = FALSE;
