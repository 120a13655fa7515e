-- knowledge bases on a Qdrant server (a copy's collections are its own: they carry the database name)
UPDATE aia_knowledge_base
   SET qdrant_api_key = NULL;
