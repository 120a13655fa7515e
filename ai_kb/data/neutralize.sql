-- knowledge bases on a Qdrant server: the copy has no key to production's server
UPDATE aia_knowledge_base
   SET qdrant_api_key = NULL;

-- the copy indexes into a namespace of its own, in its own embedded-store folder: it never reads
-- or writes the original's vectors, so its documents must be indexed again
DELETE FROM ir_config_parameter
 WHERE key IN ('aia.kb_namespace', 'aia.qdrant_local_path');

UPDATE aia_knowledge_document
   SET state = 'error',
       served_generation = NULL,
       chunk_count = 0,
       progress = 0,
       error_message = 'This database is a neutralized copy: use Re-index to search this document here.';
