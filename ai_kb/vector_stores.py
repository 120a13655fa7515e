"""The vector stores' Odoo side: this install's namespace, where the embedded store lives, the
process-wide store clients, and removing every vector of the install.

Stores are named after the namespace (pgvector tables ``aia_kb_<namespace>_<dim>``, Qdrant
collections ``aia_<database>_<namespace>_...``), so vectors of an earlier install (ids restart at
1 after a reinstall) or of the database a copy was made from are never read.
"""

import logging
import os
import re
import secrets
import shutil
import threading

from odoo.tools import config, str2bool

from odoo.addons.ai_core.ai_engine.rag import PgVectorStore, QdrantStore, VectorStoreError, close_local_store

_logger = logging.getLogger(__name__)

# ":memory:" or a folder; default: <filestore>/aia_qdrant.
QDRANT_PATH_PARAM = "aia.qdrant_local_path"
# pgvector's HNSW index (on by default: exact search at 100 k chunks is too slow for a chat).
HNSW_PARAM = "aia.pgvector_hnsw"
# Made at install (or on first use in a neutralized copy); uninstalling and neutralizing remove it.
NAMESPACE_PARAM = "aia.kb_namespace"

# Qdrant stores per location and prefix: local mode allows one client per folder and process, and
# a server client keeps its connection pool.
_stores = {}
_stores_lock = threading.Lock()


def namespace(env):
    """This install's vector namespace, made once, race-free."""
    env.cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", [NAMESPACE_PARAM])
    row = env.cr.fetchone()
    if row and row[0]:
        return row[0]
    # Committed on its own: vectors written under it outlive a job that rolls back. Two processes
    # making it at once: the second one gets the first one's value.
    with env.registry.cursor() as cr:
        cr.execute(
            """INSERT INTO ir_config_parameter (key, value, create_uid, write_uid, create_date, write_date)
               VALUES (%s, %s, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC')
               ON CONFLICT (key) DO UPDATE SET value = ir_config_parameter.value
               RETURNING value""",
            [NAMESPACE_PARAM, secrets.token_hex(4), env.uid, env.uid],
        )
        return cr.fetchone()[0]


def store_prefix(env):
    """Collection prefix: one Qdrant server or folder may hold several databases' vectors, and
    each install of each one has its own."""
    database = re.sub(r"[^a-z0-9_]", "_", env.cr.dbname.lower())[:20]
    return f"aia_{database}_{namespace(env)}"


def qdrant_path(env):
    return env["ir.config_parameter"].sudo().get_param(QDRANT_PATH_PARAM) or default_qdrant_path(env)


def default_qdrant_path(env):
    return os.path.join(config.filestore(env.cr.dbname), "aia_qdrant")


def pgvector_store(env):
    """pgvector on this environment's cursor (vectors are written and rolled back with it)."""
    hnsw = str2bool(env["ir.config_parameter"].sudo().get_param(HNSW_PARAM, "True"))
    return PgVectorStore(env.cr, table_prefix=f"aia_kb_{namespace(env)}", hnsw=hnsw)


def local_store(env):
    path = qdrant_path(env)
    return _cached(("local", path, "", store_prefix(env)), lambda: _local(path, store_prefix(env)))


def server_store(env, url, api_key, fingerprint):
    prefix = store_prefix(env)
    return _cached(
        ("server", url, fingerprint, prefix), lambda: QdrantStore(url=url, api_key=api_key, prefix=prefix)
    )


def _local(path, prefix):
    if path != ":memory:":
        os.makedirs(path, exist_ok=True)
    return QdrantStore(path=path, prefix=prefix)


def _cached(key, build):
    with _stores_lock:
        if key not in _stores:
            _stores[key] = build()
        return _stores[key]


def drop_namespace(env):
    """Remove every vector of this install (uninstall): the pgvector tables, the Qdrant
    collections, the embedded store's default folder, and the namespace itself."""
    bases = env["aia.knowledge.base"].sudo().with_context(active_test=False).search([])
    stores = {}
    for base in bases.filtered(lambda b: b.vector_store == "qdrant_server"):
        try:
            store = base._aia_store()
            stores[id(store)] = store
        except Exception:  # noqa: BLE001 - a server down must not block the uninstall
            _logger.warning("knowledge base %s: Qdrant server unreachable, vectors left", base.id)
    try:
        local = local_store(env)
        stores[id(local)] = local
    except VectorStoreError:  # another process holds the folder: removed with it below
        _logger.warning("embedded Qdrant store busy: its collections are removed with its folder")
    for store in stores.values():
        try:
            store.drop_all()
        except Exception:
            _logger.warning("vector store %s: collections not deleted", store.prefix, exc_info=True)
    pgvector_store(env).drop_all()
    path = qdrant_path(env)
    if path == default_qdrant_path(env) and os.path.isdir(path):
        close_local_store(path)
        shutil.rmtree(path, ignore_errors=True)
    with _stores_lock:
        _stores.clear()
    env.cr.execute("DELETE FROM ir_config_parameter WHERE key = %s", [NAMESPACE_PARAM])
