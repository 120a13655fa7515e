-- AI agents: a copied database must not call providers or HTTP tools with production secrets.
UPDATE aia_provider
   SET api_key = NULL,
       extra_headers = NULL;

UPDATE aia_tool
   SET http_headers = NULL;

-- kill switch: agents stay off until someone turns them on in the copy
INSERT INTO ir_config_parameter (key, value)
VALUES ('aia.agents_enabled', 'False')
    ON CONFLICT (key) DO
       UPDATE SET value = 'False';
