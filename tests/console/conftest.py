"""Fixtures the console's tests share (the desk, team and clock come from tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(operation, tables) of every DynamoDB call from now on, PynamoDB's included (a transaction
    or batch is one call, its tables joined by commas); clear it before the request you measure."""
    import botocore.client

    calls: list[tuple[str, str]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            names = [params["TableName"]] if "TableName" in params else list(params.get("RequestItems", {}))
            names += [item[kind]["TableName"] for item in params.get("TransactItems", []) for kind in item]
            calls.append((operation, ",".join(sorted(name.removeprefix("promptly-local-") for name in names))))
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return calls
