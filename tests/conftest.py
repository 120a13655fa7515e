"""Pure-tier fixtures. Every test runs with the network kill switch on: only loopback is reachable."""

from __future__ import annotations

import pytest

from ai_engine.testing import block_network


@pytest.fixture(autouse=True)
def _no_network():
    with block_network():
        yield
