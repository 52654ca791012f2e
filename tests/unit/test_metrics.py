"""Metrics (chalicelib/metrics.py): one EMF line per occurrence, whose dimensions are exactly the
ones the stack's alarm watches (infra/stack.py: stage and service). CloudWatch keeps a metric per
dimension set, so context put in as a dimension would count into a metric no alarm reads.
"""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib import metrics, stage

CHALICE_CONFIG = Path(__file__).resolve().parents[2] / ".chalice" / "config.json"


def test_a_count_is_one_line_with_the_alarms_dimensions_and_context_beside_them(monkeypatch, capsys):
    # what every deployed function has in its environment (the app-wide variables of .chalice/config.json)
    for name, value in json.loads(CHALICE_CONFIG.read_text())["environment_variables"].items():
        monkeypatch.setenv(name, value)
    metrics.count(metrics.ACKS_REFUSED, limit="domain", domain="gmail.com")
    [line] = capsys.readouterr().out.splitlines()
    emf = json.loads(line)
    [declared] = emf["_aws"]["CloudWatchMetrics"]
    assert declared["Namespace"] == "Promptly"
    assert [sorted(dimensions) for dimensions in declared["Dimensions"]] == [["service", "stage"]]
    assert declared["Metrics"] == [{"Name": "AcksRefusedByLimit", "Unit": "Count"}]
    assert (emf["stage"], emf["service"], emf["AcksRefusedByLimit"]) == (stage.name(), "promptly", [1.0])
    assert (emf["limit"], emf["domain"]) == ("domain", "gmail.com")  # searchable in Logs Insights, not a dimension
