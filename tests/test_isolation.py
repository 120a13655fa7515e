"""The engine must stay importable without Odoo and without paying for the provider SDKs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ai_engine.testing import NetworkBlocked

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


def test_rag_dependencies_are_imported_lazily():
    """torch (seconds to import), the vector store client and the file readers load on first use."""
    modules = _modules_after("import ai_engine, ai_engine.rag")
    assert "ai_engine.rag.stores" in modules
    heavy = {"torch", "sentence_transformers", "transformers", "qdrant_client", "pypdf", "lxml", "numpy"}
    assert not {name for name in modules if name.split(".")[0] in heavy}


def test_no_source_file_of_the_engine_imports_odoo():
    offenders = [
        path.name
        for path in (AI_CORE / "ai_engine").rglob("*.py")
        if any(
            line.lstrip().startswith(("import odoo", "from odoo"))
            for line in path.read_text(encoding="utf-8").splitlines()
        )
    ]
    assert offenders == []


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
