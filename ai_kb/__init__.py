from . import models, readers, tools, vector_stores


def post_init_hook(env):
    # Made now, committed with the install: never inside a job that might roll back.
    vector_stores.namespace(env)


def uninstall_hook(env):
    """Vectors live outside the addon's tables (their own tables, Qdrant collections, a folder):
    removed here, or a reinstall's new bases (ids from 1 again) would find them."""
    vector_stores.drop_namespace(env)
