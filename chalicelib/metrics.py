"""CloudWatch metrics as Powertools EMF lines: one JSON line on stdout per data point, which
CloudWatch turns into a metric (no API call, no IAM grant, no flush at the end of an invocation).

`single_metric` writes its line at once, so Chalice handlers need no `@log_metrics` decorator
(which expects Lambda's `(event, context)` and breaks them). Importing it costs next to nothing
once Powertools' Logger is loaded. Namespace `Promptly`, dimensions `service` and `stage`
(infra/stack.py alarms on the same ones).
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from chalicelib import stage

NAMESPACE = "Promptly"
ACKS_REFUSED = "AcksRefusedByLimit"  # an acknowledgement over a limit of desk.toml [limits]


def count(name: str, **metadata: str) -> None:
    """One occurrence of `name`; `metadata` rides along for Logs Insights (not a dimension,
    so it adds no metric of its own)."""
    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="stage", value=stage.name())
        for key, value in metadata.items():
            metric.add_metadata(key=key, value=value)
