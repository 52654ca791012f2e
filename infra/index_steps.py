"""A stack update may add or delete at most ONE global secondary index per DynamoDB table
(DynamoDB's limit, which CloudFormation inherits: "Cannot perform more than one GSI creation or
deletion in a single update"). When a release changes a table's indexes by more than one, the
deploy reaches the new template in steps: `plan` says which index each table gains or loses at
each step, `template_after` writes the template of a step, and tools/deploy.py applies them in
order, each waiting for its update (and so the new index's backfill) to complete.

The steps start from the template CloudFormation has (the deployed one, its code included) and
change only the tables' indexes, so the running code keeps working while indexes are added:
per table, first the new indexes, then those whose key schema or projection changed (deleted,
then added again under the same name: DynamoDB cannot alter an index), and the indexes the new
release no longer has last, at the end of the plan. The last step is the new template itself, so
the new code arrives with its indexes in place and the old indexes go with the old code.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

TABLE = "AWS::DynamoDB::Table"

Index = dict[str, Any]  # one entry of a table's GlobalSecondaryIndexes
Template = dict[str, Any]


@dataclass(frozen=True)
class Move:
    """One index added to or removed from one table."""

    table: str  # the table's logical id in the template
    name: str  # the table's name, for people
    index: str
    adding: Index | None  # the index's definition when it is added; None when it is removed
    attribute_types: tuple[tuple[str, str], ...] = ()  # the added index's key attributes and their types

    def describe(self, step: int, steps: int) -> str:
        verb = "adding" if self.adding is not None else "removing"
        return f"{self.name}: {verb} index {self.index} (step {step} of {steps})"


Step = list[Move]  # at most one move per table


def plan(deployed: Template, new: Template) -> list[Step]:
    """The steps from the deployed template's indexes to the new one's, each moving every table
    by at most one index; the last step is the new template itself. No steps: no index changes.
    A table new to the stack is created with all its indexes at once: it takes no steps."""
    tables: list[tuple[Step, Step]] = []  # per table: its moves from the first step, its moves to the last
    for logical, resource in sorted(new.get("Resources", {}).items()):
        before = deployed.get("Resources", {}).get(logical)
        if resource.get("Type") == TABLE and before and before.get("Type") == TABLE:
            tables.append(_moves(logical, before, resource))
    count = max((len(first) + len(last) for first, last in tables), default=0)
    steps: list[Step] = [[] for _ in range(count)]
    for first, last in tables:
        for number, move in enumerate(first):
            steps[number].append(move)
        for number, move in enumerate(last, start=count - len(last)):
            steps[number].append(move)
    return steps


def template_after(deployed: Template, steps: list[Step]) -> Template:
    """The deployed template with the moves of `steps` made to its tables: their indexes, and
    their attribute definitions (exactly the key attributes in use, as DynamoDB requires)."""
    template = copy.deepcopy(deployed)
    for step in steps:
        for move in step:
            properties = template["Resources"][move.table]["Properties"]
            indexes = [i for i in properties.get("GlobalSecondaryIndexes", []) if i["IndexName"] != move.index]
            if move.adding is not None:
                indexes.append(copy.deepcopy(move.adding))
            properties["GlobalSecondaryIndexes"] = sorted(indexes, key=lambda i: str(i["IndexName"]))
            types = _attribute_types(template["Resources"][move.table]) | dict(move.attribute_types)
            used = {
                key["AttributeName"]
                for keys in [properties["KeySchema"]]
                + [i["KeySchema"] for i in properties["GlobalSecondaryIndexes"]]
                + [i["KeySchema"] for i in properties.get("LocalSecondaryIndexes", [])]
                for key in keys
            }
            properties["AttributeDefinitions"] = [
                {"AttributeName": name, "AttributeType": types[name]} for name in sorted(used)
            ]
            if not properties["GlobalSecondaryIndexes"]:
                del properties["GlobalSecondaryIndexes"]
    return template


def _moves(logical: str, before: dict[str, Any], after: dict[str, Any]) -> tuple[Step, Step]:
    """One table's moves: those to make from the first step on, and those to make last."""
    old, new = _indexes(before), _indexes(after)
    name = after["Properties"].get("TableName")
    name = name if isinstance(name, str) else logical
    types = _attribute_types(after)

    def add(index: str) -> Move:
        keys = tuple((key["AttributeName"], types[key["AttributeName"]]) for key in new[index]["KeySchema"])
        return Move(logical, name, index, new[index], keys)

    def remove(index: str) -> Move:
        return Move(logical, name, index, None)

    first = [add(index) for index in sorted(new.keys() - old.keys())]
    for index in sorted(new.keys() & old.keys()):
        if _shape(new[index]) != _shape(old[index]):
            first += [remove(index), add(index)]  # DynamoDB cannot alter an index: delete, then add
    return first, [remove(index) for index in sorted(old.keys() - new.keys())]


def _indexes(table: dict[str, Any]) -> dict[str, Index]:
    return {index["IndexName"]: index for index in table["Properties"].get("GlobalSecondaryIndexes", [])}


def _attribute_types(table: dict[str, Any]) -> dict[str, str]:
    return {d["AttributeName"]: d["AttributeType"] for d in table["Properties"].get("AttributeDefinitions", [])}


def _shape(index: Index) -> tuple[object, ...]:
    """What DynamoDB cannot change in place (its throughput it can): written the same whatever the
    order the template lists the keys or the projected attributes in."""
    keys = sorted((key["KeyType"] != "HASH", key["AttributeName"]) for key in index["KeySchema"])
    projection = index.get("Projection", {})
    return (
        tuple(keys),
        projection.get("ProjectionType", "ALL"),
        tuple(sorted(projection.get("NonKeyAttributes", []))),
    )
