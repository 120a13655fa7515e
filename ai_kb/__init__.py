from . import models, tools


def post_init_hook(env):
    # Made now, committed with the install: never inside a job that might roll back.
    env["aia.knowledge.base"]._aia_namespace()


def uninstall_hook(env):
    """Vectors live outside the addon's tables (their own tables, Qdrant collections, a folder):
    removed here, or a reinstall's new bases (ids from 1 again) would find them."""
    env["aia.knowledge.base"]._aia_drop_namespace()
