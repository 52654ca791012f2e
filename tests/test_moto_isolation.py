"""The local desk's embedded DynamoDB keeps DynamoDB's promise that a cancelled transaction
changes nothing — not even a write another request made while it ran (tools/moto_isolation.py).
Without it, a load run against the local desk lost tickets that had been stored."""

from __future__ import annotations

import threading

import boto3
import moto.dynamodb.models as moto_dynamodb
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.responses import DynamoHandler

from tools.moto_isolation import isolate_dynamodb

TABLE = "isolation"


def table_with_a_delivery_key(client) -> None:
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName=TABLE, Item={"key": {"S": "delivery#1"}})


def paused_after_its_snapshot(monkeypatch, snapshotted: threading.Event, written: threading.Event) -> None:
    """moto copies the tables a transaction touches, then reads each item it writes: hold the
    transaction at its first read until the other request wrote (or half a second passed: a
    request that waits its turn)."""
    read = moto_dynamodb.DynamoDBBackend.get_item

    def read_then_wait(self, *args, **kwargs):
        if threading.current_thread().name == "transaction" and not snapshotted.is_set():
            snapshotted.set()
            written.wait(timeout=0.5)
        return read(self, *args, **kwargs)

    monkeypatch.setattr(moto_dynamodb.DynamoDBBackend, "get_item", read_then_wait)


def test_a_cancelled_transaction_does_not_undo_a_concurrent_write(monkeypatch):
    monkeypatch.setattr(DynamoHandler, "call_action", DynamoHandler.call_action)  # restored after the test
    isolate_dynamodb()
    snapshotted, written = threading.Event(), threading.Event()
    paused_after_its_snapshot(monkeypatch, snapshotted, written)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1")
        table_with_a_delivery_key(client)
        refused: list[str] = []

        def duplicate_delivery() -> None:  # its delivery key exists: the transaction is cancelled
            try:
                client.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": TABLE, "Item": {"key": {"S": "ticket#B"}}}},
                        {
                            "Put": {
                                "TableName": TABLE,
                                "Item": {"key": {"S": "delivery#1"}},
                                "ConditionExpression": "attribute_not_exists(#k)",
                                "ExpressionAttributeNames": {"#k": "key"},
                            }
                        },
                    ]
                )
            except ClientError as error:
                refused.append(error.response["Error"]["Code"])

        def another_customer() -> None:
            client.put_item(TableName=TABLE, Item={"key": {"S": "ticket#C"}})
            written.set()

        transaction = threading.Thread(target=duplicate_delivery, name="transaction")
        transaction.start()
        assert snapshotted.wait(timeout=5)
        writer = threading.Thread(target=another_customer)
        writer.start()
        transaction.join(timeout=10)
        writer.join(timeout=10)

        assert refused == ["TransactionCanceledException"]
        assert "Item" in client.get_item(TableName=TABLE, Key={"key": {"S": "ticket#C"}})  # kept
        assert "Item" not in client.get_item(TableName=TABLE, Key={"key": {"S": "ticket#B"}})  # never written
