from . import (
    aia_agent,
    aia_knowledge_base,
    aia_knowledge_document,
    aia_session,
)
