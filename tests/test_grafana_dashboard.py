"""The Grafana dashboard shipped in ai_core/monitoring queries the metrics ai_core exports, by
the names Prometheus stores them under."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "ai_core" / "monitoring" / "grafana-dashboard.json"


def exported_series() -> dict[str, str]:
    """Series name → metric name, for each metric declared in ai_core/metrics.py, as
    prometheus_client exposes them (counters with ``_total``, histograms by bucket, sum, count)."""
    source = (ROOT / "ai_core" / "metrics.py").read_text()
    series = {}
    for kind, name in re.findall(r'\b(Counter|Histogram|GaugeMetricFamily)\(\s*"(aia_\w+)"', source):
        suffixes = {"Counter": ["_total"], "Histogram": ["_bucket", "_sum", "_count"]}.get(kind, [""])
        series.update({name + suffix: name for suffix in suffixes})
    return series


def queries(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "definition") and isinstance(value, str):
                yield value
            else:
                yield from queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from queries(item)


def test_every_query_names_an_exported_series_and_every_metric_has_a_panel():
    dashboard = json.loads(DASHBOARD.read_text())
    series = exported_series()
    assert set(series.values()) == {
        "aia_api_requests",
        "aia_api_request_duration_seconds",
        "aia_provider_request_duration_seconds",
        "aia_provider_tokens",
        "aia_tool_calls",
        "aia_tool_failures",
        "aia_jobs",
    }
    used = set()
    for expr in queries(dashboard):
        for name in re.findall(r"\baia_\w+", expr):
            assert name in series, f"{name} is not a series of ai_core/metrics.py: {expr}"
            used.add(series[name])
    assert used == set(series.values())
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
