"""The index step planner (infra/index_steps.py): DynamoDB adds or deletes one global secondary
index per table per update, so a release that changes more goes in steps — and each step's
template moves every table by at most one index, with exactly the attribute definitions its keys
use (DynamoDB refuses any other)."""

from __future__ import annotations

import copy
from typing import Any

from infra.index_steps import Move, Step, plan, template_after


def index(name: str, hash_key: str, range_key: str | None = None, projection: str = "KEYS_ONLY", **extra: Any):
    keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return {"IndexName": name, "KeySchema": keys, "Projection": {"ProjectionType": projection, **extra}}


def table(name: str, *indexes: dict[str, Any]) -> dict[str, Any]:
    keys = {key["AttributeName"] for i in indexes for key in i["KeySchema"]} | {"pk"}
    properties: dict[str, Any] = {
        "TableName": f"promptly-dev-{name}",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "N" if k == "n" else "S"} for k in sorted(keys)],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if indexes:
        properties["GlobalSecondaryIndexes"] = list(indexes)
    return {"Type": "AWS::DynamoDB::Table", "Properties": properties}


def template(**tables: dict[str, Any]) -> dict[str, Any]:
    return {
        "Parameters": {"AlarmEmail": {"Type": "String"}},
        "Resources": {
            **{f"{name.capitalize()}Table": resource for name, resource in tables.items()},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        },
    }


A, B, C, D, E = (index(name, f"{name}_key") for name in "abcde")


def moves(steps: list[Step]) -> list[list[str]]:
    return [[f"{m.name.rsplit('-', 1)[1]} {'+' if m.adding else '-'}{m.index}" for m in step] for step in steps]


def gsis(resource: dict[str, Any]) -> dict[str, Any]:
    return {i["IndexName"]: i for i in resource["Properties"].get("GlobalSecondaryIndexes", [])}


def check_every_step(deployed: dict[str, Any], new: dict[str, Any], steps: list[Step]) -> None:
    """What DynamoDB checks at each update, and that the last step reaches the new indexes."""
    previous = deployed
    for number in range(1, len(steps) + 1):
        current = template_after(deployed, steps[:number])
        for logical, resource in current["Resources"].items():
            if resource["Type"] != "AWS::DynamoDB::Table":
                assert resource == deployed["Resources"][logical]  # only the tables' indexes move
                continue
            before, after = gsis(previous["Resources"][logical]), gsis(resource)
            changed = (before.keys() ^ after.keys()) | {
                n for n in before.keys() & after.keys() if before[n] != after[n]
            }
            assert len(changed) <= 1, (number, logical, changed)
            properties = resource["Properties"]
            used = {k["AttributeName"] for i in [properties, *after.values()] for k in i["KeySchema"]}
            assert {d["AttributeName"] for d in properties["AttributeDefinitions"]} == used, (number, logical)
        previous = current
    for logical, resource in new["Resources"].items():
        if resource["Type"] == "AWS::DynamoDB::Table" and logical in deployed["Resources"]:
            assert gsis(previous["Resources"][logical]) == gsis(resource), logical


def test_nothing_to_step_when_the_indexes_are_the_same():
    deployed = template(tickets=table("tickets", A, B))
    assert plan(deployed, copy.deepcopy(deployed)) == []


def test_one_index_more_or_less_is_one_step_the_new_template_itself():
    deployed = template(tickets=table("tickets", A, B))
    assert moves(plan(deployed, template(tickets=table("tickets", A, B, C)))) == [["tickets +c"]]
    assert moves(plan(deployed, template(tickets=table("tickets", A)))) == [["tickets -b"]]


def test_three_new_indexes_and_one_gone_take_four_steps_additions_first():
    deployed = template(tickets=table("tickets", A, B))
    new = template(tickets=table("tickets", A, C, D, E))

    steps = plan(deployed, new)

    # the running (old) code keeps index b until the new code arrives with the last step
    assert moves(steps) == [["tickets +c"], ["tickets +d"], ["tickets +e"], ["tickets -b"]]
    assert [m.describe(n, len(steps)) for n, step in enumerate(steps, 1) for m in step] == [
        "promptly-dev-tickets: adding index c (step 1 of 4)",
        "promptly-dev-tickets: adding index d (step 2 of 4)",
        "promptly-dev-tickets: adding index e (step 3 of 4)",
        "promptly-dev-tickets: removing index b (step 4 of 4)",
    ]
    check_every_step(deployed, new, steps)


def test_a_changed_projection_or_key_is_a_delete_then_an_add():
    deployed = template(tickets=table("tickets", A, index("b", "b_key", projection="ALL")))
    projected = template(tickets=table("tickets", A, index("b", "b_key", projection="INCLUDE", NonKeyAttributes=["x"])))
    rekeyed = template(tickets=table("tickets", A, index("b", "b_key", "n")))

    assert moves(plan(deployed, projected)) == [["tickets -b"], ["tickets +b"]]
    assert moves(plan(deployed, rekeyed)) == [["tickets -b"], ["tickets +b"]]
    check_every_step(deployed, projected, plan(deployed, projected))
    check_every_step(deployed, rekeyed, plan(deployed, rekeyed))


def test_the_same_index_written_in_another_order_is_not_rebuilt():
    ranged = index("b", "b_key", "n", projection="INCLUDE", NonKeyAttributes=["x", "y"])
    reordered = copy.deepcopy(ranged)
    reordered["KeySchema"].reverse()
    reordered["Projection"]["NonKeyAttributes"].reverse()

    assert plan(template(tickets=table("tickets", ranged)), template(tickets=table("tickets", reordered))) == []


def test_several_tables_move_together_one_index_each_per_step():
    deployed = template(tickets=table("tickets", A, B), customers=table("customers", A, B), agents=table("agents", A))
    new = template(
        tickets=table("tickets", A, C, D, E),
        customers=table("customers", A),  # loses b: with the last step, when the code that read it goes
        agents=table("agents", A, C),  # gains c: from the first step
        keys=table("keys", A, B, C),  # a new table: created with all its indexes at once, no steps
    )

    steps = plan(deployed, new)

    assert moves(steps) == [
        ["agents +c", "tickets +c"],
        ["tickets +d"],
        ["tickets +e"],
        ["customers -b", "tickets -b"],
    ]
    check_every_step(deployed, new, steps)


def test_an_index_dropped_and_added_back_takes_its_attribute_definition_with_it():
    deployed = template(tickets=table("tickets", index("n", "n")))
    new = template(tickets=table("tickets", index("n", "n", projection="ALL")))

    steps = plan(deployed, new)
    between = template_after(deployed, steps[:1])["Resources"]["TicketsTable"]["Properties"]

    assert "GlobalSecondaryIndexes" not in between
    assert between["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert steps[1] == [
        Move("TicketsTable", "promptly-dev-tickets", "n", gsis(new["Resources"]["TicketsTable"])["n"], (("n", "N"),))
    ]
    check_every_step(deployed, new, steps)


def test_the_steps_leave_the_deployed_template_as_it_was():
    deployed = template(tickets=table("tickets", A, B))
    kept = copy.deepcopy(deployed)

    template_after(deployed, plan(deployed, template(tickets=table("tickets", C, D))))

    assert deployed == kept
