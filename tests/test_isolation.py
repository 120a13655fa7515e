"""The engine must stay importable without Odoo and without paying for the provider SDKs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ai_engine.testing import NetworkBlocked

from .source_checks import files_importing_odoo

AI_CORE = Path(__file__).resolve().parents[1] / "ai_core"


def _modules_after(statement: str) -> set[str]:
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=AI_CORE, capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


def test_import_ai_engine_loads_no_odoo_module():
    modules = _modules_after("import ai_engine, ai_engine.testing")
    assert "ai_engine.runner" in modules
    assert not {name for name in modules if name == "odoo" or name.startswith("odoo.")}


def test_provider_sdks_are_imported_lazily():
    modules = _modules_after("import ai_engine")
    assert "anthropic" not in modules
    assert "openai" not in modules


def test_the_engine_traces_with_the_opentelemetry_api_only():
    """The SDK and its exporter are ai_core's, loaded only where an endpoint is configured."""
    modules = _modules_after("import ai_engine, ai_engine.tracing")
    assert "opentelemetry.trace" in modules
    assert not {name for name in modules if name.startswith(("opentelemetry.sdk", "opentelemetry.exporter"))}


def test_rag_dependencies_are_imported_lazily():
    """torch (seconds to import), the vector store client and the file readers load on first use."""
    modules = _modules_after("import ai_engine, ai_engine.rag")
    assert "ai_engine.rag.stores" in modules
    heavy = {"torch", "sentence_transformers", "transformers", "qdrant_client", "pypdf", "lxml", "numpy"}
    assert not {name for name in modules if name.split(".")[0] in heavy}


def test_no_source_file_of_the_engine_imports_odoo():
    assert files_importing_odoo(AI_CORE / "ai_engine") == []


def test_network_kill_switch_refuses_remote_hosts():
    import socket

    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("api.anthropic.com", 443)
    with pytest.raises(NetworkBlocked), socket.socket() as sock:
        sock.connect(("192.0.2.10", 443))


def test_network_kill_switch_lets_loopback_through():
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass


KNOWLEDGE_STACK = ("torch", "sentence_transformers", "transformers", "qdrant_client", "pypdf")
# Python run with the knowledge stack made unimportable, as in a venv installed with
# `scripts/setup.sh --core-only`: every addon but ai_kb must import, and the first one's tests.
_WITHOUT_KNOWLEDGE_STACK = f"""
import importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {KNOWLEDGE_STACK!r}:
            raise ImportError("not installed: " + name)
sys.meta_path.insert(0, Refuse())
import odoo.addons
for path in sys.argv[1].split(","):
    if path not in odoo.addons.__path__:
        odoo.addons.__path__._path.append(path)  # as Odoo does: survives a recalculation
import importlib
for addon in sys.argv[2:]:
    importlib.import_module("odoo.addons." + addon)
importlib.import_module("odoo.addons." + sys.argv[2] + ".tests")
print("imported")
try:
    import sentence_transformers
except ImportError:
    print("refused")
"""


def test_every_addon_but_ai_kb_imports_without_the_knowledge_stack():
    pytest.importorskip("odoo.release", reason="the addons import Odoo: run scripts/setup.sh --odoo PATH")
    root = AI_CORE.parent
    # The addons path the Odoo tier uses (Odoo's addons, placeholders of a trimmed source, this one).
    paths = subprocess.run(
        ["scripts/addons_path.sh"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "ODOO_PYTHON": sys.executable},
    ).stdout.strip()
    others = {p.parent.name for p in root.glob("*/__manifest__.py")} - {"ai_core", "ai_kb"}
    addons = ["ai_core", *sorted(others)]
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_KNOWLEDGE_STACK, paths, *addons],
        capture_output=True,
        text=True,
        cwd=root,
    )
    # "refused": the stack really was out of reach while the addons imported.
    assert done.stdout.split() == ["imported", "refused"], done.stderr[-2000:]
