"""`openapi.yaml` is the contract of every HTTP route; these tests keep it from drifting.

They check that the file is a valid OpenAPI document; that its operations are exactly the
Chalice routes (path, method, operationId = view function name, path parameters, request
content types); that every JSON request body schema equals its pydantic model (fields, required
fields, types, lengths, patterns, defaults, extra fields refused or ignored); and that the
response schemas name exactly the fields the code returns. No AWS is needed: the app is
imported, and tickets/agents/messages are built in memory only.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import TypeAdapter
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from app import app
from chalicelib import api, dev_clock, webhooks
from chalicelib.channels import chat, form

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"
SPEC_URI = "urn:promptly:openapi"
METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
CONSTRAINTS = ("minLength", "maxLength", "pattern", "minItems", "maxItems", "minimum", "maximum", "enum", "const")

# operationId → the pydantic model (or dataclass pydantic reads) its JSON body is validated with (chalicelib/api.py `_json(Model, ...)`,
# and the webhooks' own models). `test_body_models_are_the_ones_the_code_uses` re-derives the API
# part from the source, so a new body (or a changed model) cannot slip past this table.
BODY_MODELS: dict[str, type[Any]] = {
    "api_reply": api.Answer,
    "api_upload": api.Upload,
    "api_note": api.Text,
    "api_handover": api.Handover,
    "api_assign": api.Assign,
    "api_status": api.Status,
    "api_priority": api.Priority,
    "api_create_agent": api.NewAgent,
    "api_update_agent": api.AgentChanges,
    "api_set_roster": api.Roster,
    "contact_form": form.Submission,
    "chat": chat.ChatMessage,
    "dev_clock_move": dev_clock.ClockMove,
}
# Console routes a page's script asks, which answer JSON (the door's refusals are still pages).
CONSOLE_JSON = {"console_ticket_upload"}
# Routes for browsers (customers' pages and the agents' console): they answer HTML pages, errors included.
HTML_PAGES = {
    "confirm_page",
    "confirm_answer",
    "rate_page",
    "rate_vote",
    "survey_page",
    "survey_answer",
    "console_home",
    "console_queue_page",
    "console_sign_in_page",
    "console_ask_for_code",
    "console_enter_code",
    "console_sign_out",
    "console_ticket",
    "console_ticket_older",
    "console_ticket_customer",
    "console_ticket_people",
    "console_ticket_file",
    "console_ticket_original",
    "console_ticket_send",
    "console_ticket_take",
    "console_ticket_handover",
    "console_ticket_assign",
    "console_ticket_status",
    "console_ticket_priority",
    "console_ticket_presence",
    "console_search_page",
    "console_roster",
    "console_save_roster",
    "console_agents",
    "console_create_agent",
    "console_agent",
    "console_update_agent",
    "console_agent_active",
    "console_issue_token",
    "console_revoke_token",
    "console_me",
    "console_save_me",
}
# Console form posts whose success is a redirect (303, Post/Redirect/Get), not a page.
REDIRECTS = {
    "customer_file": "303",
    "console_home": "303",
    "console_ticket_file": "303",  # to the file's presigned link
    "console_enter_code": "303",
    "console_sign_out": "303",
    **{f"console_ticket_{action}": "303" for action in ("send", "take", "handover", "assign", "status", "priority")},
    "console_save_roster": "303",
    "console_create_agent": "303",
    "console_update_agent": "303",
    "console_agent_active": "303",
    "console_revoke_token": "303",
    "console_save_me": "303",
}


# --------------------------------------------------------------------------- helpers


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def resolve(node: Any) -> Any:
    """Follow local `$ref`s (`#/components/...`) until a node that is not a reference."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"only local references are used in openapi.yaml, not {ref}"
        node = spec()
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def operations() -> dict[tuple[str, str], dict[str, Any]]:
    """(path, METHOD) → operation object (with its path item's parameters merged in)."""
    found = {}
    for path, item in spec()["paths"].items():
        for method in METHODS:
            if method in item:
                found[(path, method.upper())] = {**item[method], "_path_parameters": item.get("parameters", [])}
    return found


def chalice_routes() -> dict[tuple[str, str], Any]:
    return {(path, method): entry for path, methods in app.routes.items() for method, entry in methods.items()}


def operation_by_id(operation_id: str) -> dict[str, Any]:
    matches = [op for op in operations().values() if op.get("operationId") == operation_id]
    assert len(matches) == 1, f"{len(matches)} operations in openapi.yaml have operationId {operation_id!r}"
    return matches[0]


def flatten(schema: Any) -> dict[str, Any]:
    """An object schema with its `allOf` parts merged: {"properties": {...}, "required": set}."""
    schema = resolve(schema)
    properties: dict[str, Any] = {}
    required: set[str] = set()
    for part in schema.get("allOf", []):
        inner = flatten(part)
        properties.update(inner["properties"])
        required |= inner["required"]
    properties.update(schema.get("properties", {}))
    required |= set(schema.get("required", []))
    return {
        "properties": properties,
        "required": required,
        "additionalProperties": schema.get("additionalProperties", True),
    }


def success_schema(operation_id: str) -> Any:
    responses = operation_by_id(operation_id)["responses"]
    [code] = [code for code in responses if str(code).startswith("2")]
    return resolve(responses[code])["content"]["application/json"]["schema"]


def validator(schema: Any) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator (OpenAPI 3.1's dialect) resolving refs into the spec."""
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(spec(), default_specification=DRAFT202012))

    def anchored(node: Any) -> Any:  # "#/components/..." → "<spec uri>#/components/..."
        if isinstance(node, dict):
            return {
                key: SPEC_URI + value if key == "$ref" and value.startswith("#") else anchored(value)
                for key, value in node.items()
            }
        return [anchored(value) for value in node] if isinstance(node, list) else node

    return Draft202012Validator(anchored(schema), registry=registry)


def schema_errors(schema: Any, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator(schema).iter_errors(instance)
    ]


def normalized(prop: dict[str, Any]) -> dict[str, Any]:
    """One property schema, pydantic's (`anyOf: [X, {type: null}]`) or the spec's
    (`type: [X, "null"]`), as {"type": {...}, constraints..., "default": ...} for comparison."""
    prop = resolve(prop)
    variants = prop.get("anyOf") or prop.get("oneOf") or [prop]
    out: dict[str, Any] = {"type": set()}
    for variant in variants:
        variant = resolve(variant)
        kind = variant.get("type")
        out["type"] |= set(kind) if isinstance(kind, list) else {kind}
        for key in CONSTRAINTS:
            if key in variant:
                out[key] = variant[key]
        if "items" in variant:
            out["items"] = normalized(variant["items"])
    # `default: null` on a non-nullable field means "optional, left unchanged when absent";
    # OpenAPI cannot say null there, so the spec leaves the default out
    if "default" in prop and not (prop["default"] is None and "null" not in out["type"]):
        out["default"] = prop["default"]
    return out


def returned_dict_keys(function: Callable[..., Any]) -> set[str]:
    """The string keys of the dict literal(s) a function returns (`return {...}` or
    `return json_response({...})`); a `**spread` is recorded as `**<source>`."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    keys: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        dicts = [n for n in ast.walk(node.value) if isinstance(n, ast.Dict)]
        if not dicts:
            continue
        outer = dicts[0]
        for key, value in zip(outer.keys, outer.values):
            if key is None:
                keys.add("**" + ast.unparse(value).split("(")[0])
            else:
                assert isinstance(key, ast.Constant), f"{function.__qualname__}: a computed key"
                keys.add(key.value)
    assert keys, f"{function.__qualname__} returns no dict literal"
    return keys


def sample_ticket(**fields: Any) -> Any:
    """A Ticket built in memory (never saved): the shape the API shows, without AWS."""
    from chalicelib.models import Ticket

    created = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    values = {
        "customer_id": "C-1",
        "customer_name": "Olga",
        "channel": "form",
        "address": "olga@example.com",
        "subject": "Cannot log in",
        "status": "new",
        "priority": "normal",
        "queue": "general",
        "language": "en",
        "timezone": "Europe/Kyiv",
        "created_at": created,
        "updated_at": created,
        "last_message_at": created,
        "first_response_due": created + timedelta(hours=4),
        "resolution_due": created + timedelta(days=3),
    }
    values.update(fields)
    return Ticket("PR-7K3QX9M2", **values)


def sample_agent(**fields: Any) -> Any:
    from chalicelib.models import Agent

    values = {
        "first_name": "Olena",
        "last_name": "Koval",
        "email": "olena@promptly.example",
        "role": "agent",
        "queues": ["general"],
        "alert_email": "olena@promptly.example",
        "telegram_chat": None,
        "active": True,
        "open_load": 2,
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    values.update(fields)
    return Agent("A-1b2c3d4e5f", **values)


NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- (a) a valid document


def test_openapi_yaml_is_a_valid_openapi_document():
    from openapi_spec_validator import validate

    document = spec()
    json.dumps(document)  # plain JSON data: no YAML dates or other surprises
    assert str(document["openapi"]).startswith(("3.1", "3.0"))
    validate(document)


def test_every_reference_resolves_and_every_example_fits_its_schema():
    problems = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                try:
                    resolve(node)
                except KeyError:
                    problems.append(f"{where}: dangling $ref {node['$ref']}")
            if "schema" in node and "example" in node:  # a media type or parameter with an example
                problems.extend(f"{where}/example: {e}" for e in schema_errors(node["schema"], node["example"]))
            if "schema" in node and isinstance(node.get("examples"), dict):
                for name, example in node["examples"].items():
                    problems.extend(
                        f"{where}/examples/{name}: {e}"
                        for e in schema_errors(node["schema"], resolve(example)["value"])
                    )
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(spec(), "#")
    for name, schema in spec()["components"]["schemas"].items():
        if "example" in schema:
            problems.extend(
                f"components/schemas/{name}/example: {e}"
                for e in schema_errors({"$ref": f"#/components/schemas/{name}"}, schema["example"])
            )
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- (b) routes ⇄ paths


def test_the_spec_documents_exactly_the_chalice_routes():
    documented, routed = set(operations()), set(chalice_routes())

    missing = sorted(routed - documented)
    extra = sorted(documented - routed)

    assert not missing and not extra, (
        "openapi.yaml and app.py disagree.\n"
        + "".join(f"  route in app.py, missing from openapi.yaml: {method} {path}\n" for path, method in missing)
        + "".join(f"  operation in openapi.yaml, no such route in app.py: {method} {path}\n" for path, method in extra)
    )


# --------------------------------------------------------------------------- (c) operationIds


def test_each_operation_id_is_the_view_function_name():
    wrong = [
        f"{method} {path}: operationId {operations()[(path, method)].get('operationId')!r}, "
        f"view function {entry.view_name!r}"
        for (path, method), entry in sorted(chalice_routes().items())
        if (path, method) in operations() and operations()[(path, method)].get("operationId") != entry.view_name
    ]
    assert not wrong, "\n".join(wrong)


def test_path_parameters_are_the_view_arguments():
    wrong = []
    for (path, method), entry in chalice_routes().items():
        operation = operations().get((path, method))
        if operation is None:
            continue  # reported by test_the_spec_documents_exactly_the_chalice_routes
        parameters = [resolve(p) for p in operation["_path_parameters"] + operation.get("parameters", [])]
        declared = {p["name"] for p in parameters if p["in"] == "path"}
        if declared != set(entry.view_args) or any(not p.get("required") for p in parameters if p["in"] == "path"):
            wrong.append(f"{method} {path}: path parameters {sorted(declared)}, view arguments {entry.view_args}")
    assert not wrong, "\n".join(wrong)


def test_request_content_types_are_the_routes_content_types():
    wrong = []
    for (path, method), entry in chalice_routes().items():
        operation = operations().get((path, method))
        if operation is None or "requestBody" not in operation:
            continue
        documented = set(resolve(operation["requestBody"])["content"])
        if documented != set(entry.content_types):
            wrong.append(f"{method} {path}: openapi.yaml {sorted(documented)}, app.py {entry.content_types}")
    assert not wrong, "\n".join(wrong)


# --------------------------------------------------------------------------- (d) bodies ⇄ pydantic


def _api_action(view: Callable[..., Any]) -> Callable[..., Any]:
    match = re.search(r"api\.call\(\s*request\(\),\s*api\.(\w+)", inspect.getsource(view))
    assert match, f"{view.__name__} does not delegate to api.call(request(), api.<action>, ...)"
    return getattr(api, match.group(1))


def test_body_models_are_the_ones_the_code_uses():
    """BODY_MODELS (for the API) is what each view's action really parses with `_json(Model, ...)`,
    and every operation with a JSON body has an entry."""
    derived = {}
    for (path, method), entry in chalice_routes().items():
        if not path.startswith("/api/"):
            continue
        models = re.findall(r"_json\(\s*(\w+)\s*,", inspect.getsource(_api_action(entry.view_function)))
        assert len(models) <= 1, f"{entry.view_name} parses more than one body model: {models}"
        if models:
            derived[entry.view_name] = getattr(api, models[0])
    listed = {name: model for name, model in BODY_MODELS.items() if name.startswith("api_")}
    assert derived == listed, f"BODY_MODELS {listed} but the code parses {derived}"
    assert "form.parse" in inspect.getsource(webhooks._contact_form)
    assert "read_submission(" in inspect.getsource(form.parse)
    assert "validated(ChatMessage" in inspect.getsource(chat.parse)


def test_api_operations_without_a_body_model_document_no_request_body():
    wrong = [
        f"{operation['operationId']} ({method} {path}) documents a request body the code never reads"
        for (path, method), operation in operations().items()
        if path.startswith("/api/") and "requestBody" in operation and operation["operationId"] not in BODY_MODELS
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("operation_id", sorted(BODY_MODELS))
def test_request_body_schema_equals_the_pydantic_model(operation_id):
    model = BODY_MODELS[operation_id]
    request_body = resolve(operation_by_id(operation_id).get("requestBody"))
    assert request_body and request_body.get("required"), f"{operation_id}: no required requestBody in openapi.yaml"
    documented = flatten(request_body["content"]["application/json"]["schema"])
    expected = TypeAdapter(model).json_schema()
    name = f"{operation_id} ({model.__module__}.{model.__name__})"

    assert set(documented["properties"]) == set(expected["properties"]), (
        f"{name}: properties in openapi.yaml {sorted(documented['properties'])}, "
        f"in the model {sorted(expected['properties'])}"
    )
    assert documented["required"] == set(expected.get("required", [])), (
        f"{name}: required in openapi.yaml {sorted(documented['required'])}, "
        f"in the model {sorted(expected.get('required', []))}"
    )
    assert documented["additionalProperties"] == expected.get("additionalProperties", True), (
        f"{name}: additionalProperties {documented['additionalProperties']} in openapi.yaml; the model "
        + ("forbids extra fields" if expected.get("additionalProperties") is False else "ignores extra fields")
    )
    differences = [
        f"  {field}: openapi.yaml {normalized(documented['properties'][field])}, "
        f"model {normalized(expected['properties'][field])}"
        for field in expected["properties"]
        if normalized(documented["properties"][field]) != normalized(expected["properties"][field])
    ]
    assert not differences, f"{name}: field constraints differ\n" + "\n".join(differences)


# --------------------------------------------------------------------------- responses ⇄ code


def test_ticket_schema_is_exactly_what_summary_returns():
    shapes = {
        "new, clocks running": sample_ticket(),
        "pending, paused": sample_ticket(status="pending", paused_at=NOW, assignee="A-1b2c3d4e5f"),
        "urgent, continuing another ticket": sample_ticket(
            priority="urgent", urgent_reason="telephony is down", previous_ticket="PR-AAAAAAAA", channel="telegram"
        ),
        "automated, no clock": sample_ticket(first_response_due=None, resolution_due=None, automated="bounce"),
    }
    documented = flatten({"$ref": "#/components/schemas/Ticket"})
    for label, ticket in shapes.items():
        shown = api.ticket_view(ticket, NOW)
        assert set(shown) == set(documented["properties"]) == documented["required"], (
            f"ticket_view() returns {sorted(shown)}; openapi.yaml Ticket has {sorted(documented['properties'])} "
            f"(required {sorted(documented['required'])})"
        )
        errors = schema_errors({"$ref": "#/components/schemas/Ticket"}, shown)
        assert not errors, f"ticket_view() of a {label} ticket does not fit the Ticket schema: {errors}"


def test_conversation_entry_schema_is_exactly_what_open_ticket_returns():
    from chalicelib.models import Message

    message = Message(
        "PR-7K3QX9M2",
        "2026-11-23T08:00:00.000Z#M-1",
        message_id="M-1",
        direction="in",
        kind="message",
        channel="telegram",
        author="customer",
        body="[photo]",
        attachments=[{"name": "photo.jpg", "content_type": "image/jpeg", "size": 1234, "provider_file_id": "AgAD"}],
        created_at=NOW,
    )
    entry = api.message_view(message)
    documented = flatten({"$ref": "#/components/schemas/ConversationEntry"})
    assert set(entry) == set(documented["properties"]) == documented["required"]
    assert not schema_errors({"$ref": "#/components/schemas/ConversationEntry"}, entry)
    assert returned_dict_keys(api.get_ticket) == {"**ticket_view", "conversation"}
    assert set(flatten(success_schema("api_ticket"))["properties"]) == set(api.ticket_view(sample_ticket(), NOW)) | {
        "conversation"
    }


def test_agent_schema_is_exactly_what_agent_view_returns():
    documented = flatten({"$ref": "#/components/schemas/Agent"})
    for agent in (
        sample_agent(),
        sample_agent(
            alert_email=None, slack_webhook="https://hooks.slack.com/x", telegram_chat="42", active=False, role="admin"
        ),
    ):
        shown = api.agent_view(agent)
        assert set(shown) == set(documented["properties"]) == documented["required"]
        assert set(shown["alerts"]) == set(documented["properties"]["alerts"]["properties"])
        errors = schema_errors({"$ref": "#/components/schemas/Agent"}, shown)
        assert not errors, f"agent_view() does not fit the Agent schema: {errors}"
    for operation_id in ("api_me", "api_create_agent", "api_update_agent"):
        assert success_schema(operation_id) == {"$ref": "#/components/schemas/Agent"}, operation_id
    assert "agent_view" in inspect.getsource(api.me) + inspect.getsource(api.create_agent)


def test_token_info_schema_is_exactly_what_token_view_returns():
    from chalicelib.models import Key

    issued = Key(
        "token#3fa85f64a1b2",
        owner="A-1",
        issued_by="A-2",
        issued_at=NOW,
        until=NOW + timedelta(days=90),
        last_used_at=NOW,
    )
    from_before_expiry = Key("token#0ld0ld0ld0ld", owner="A-1")  # a token issued before tokens recorded more
    documented = flatten({"$ref": "#/components/schemas/TokenInfo"})
    for record in (issued, from_before_expiry):
        shown = api.token_view(record)
        assert set(shown) == set(documented["properties"]) == documented["required"]
        errors = schema_errors({"$ref": "#/components/schemas/TokenInfo"}, shown)
        assert not errors, f"token_view() does not fit the TokenInfo schema: {errors}"
    assert "token_view" in inspect.getsource(api.list_tokens)


@pytest.mark.parametrize(
    "operation_id, function, extra",
    [
        ("api_tickets", api.list_tickets, set()),
        ("api_agents", api.list_agents, set()),
        ("api_note", api.add_note, set()),
        ("api_file", api.open_file, set()),
        ("api_original", api.original, set()),
        ("api_reply", api.reply, {"**ticket_view"}),
        ("api_issue_token", api.issue_token, set()),
        ("api_tokens", api.list_tokens, set()),
        ("api_revoke_token", api.revoke_token, set()),
        ("api_roster", api.get_roster, set()),
        ("api_set_roster", api.set_roster, set()),
        ("contact_form", webhooks._contact_form, set()),
    ],
)
def test_response_schema_names_exactly_the_returned_fields(operation_id, function, extra):
    returned = returned_dict_keys(function)
    documented = flatten(success_schema(operation_id))
    expected = set(documented["properties"])
    if "**ticket_view" in extra:
        expected -= set(flatten({"$ref": "#/components/schemas/Ticket"})["properties"])
        expected.add("**ticket_view")
    assert returned == expected, f"{function.__qualname__} returns {sorted(returned)}; openapi.yaml {sorted(expected)}"
    assert documented["required"] == set(documented["properties"]), (
        f"{operation_id}: every field is always returned, so every field is required"
    )


def test_documented_enums_are_the_codes_constants():
    from chalicelib import lifecycle
    from chalicelib.agents.access import ROLES
    from chalicelib.config import CHANNELS, PRIORITIES

    ticket = flatten({"$ref": "#/components/schemas/Ticket"})["properties"]
    agent = flatten({"$ref": "#/components/schemas/Agent"})["properties"]
    sla = flatten({"$ref": "#/components/schemas/Sla"})["properties"]
    assert set(ticket["status"]["enum"]) == set(lifecycle.ALLOWED)
    assert set(ticket["priority"]["enum"]) == set(PRIORITIES)
    assert set(ticket["channel"]["enum"]) == set(CHANNELS)
    assert set(agent["role"]["enum"]) == set(ROLES)
    assert set(sla["target"]["enum"]) == {"first_response", "next_response", "resolution"}


def test_operations_answering_a_ticket_use_the_ticket_schema():
    for operation_id in ("api_take", "api_handover", "api_assign", "api_status", "api_priority"):
        assert success_schema(operation_id) == {"$ref": "#/components/schemas/Ticket"}, operation_id


def test_success_status_codes_are_the_ones_the_views_use():
    wrong = []
    for (path, method), entry in chalice_routes().items():
        operation = operations().get((path, method))
        if operation is None:
            continue
        match = re.search(r"status=(\d{3})", inspect.getsource(entry.view_function))
        code = REDIRECTS.get(entry.view_name) or (match.group(1) if match else "200")
        documented = sorted(str(c) for c in operation["responses"] if str(c).startswith("2") or str(c) == code)
        if documented != [code]:
            wrong.append(f"{entry.view_name}: openapi.yaml {documented}, the view answers {code}")
    assert not wrong, "\n".join(wrong)


def test_webhook_success_content_types_are_the_adapters():
    from chalicelib import channels

    for name in ("chat", "telegram", "viber", "twilio"):
        _, content_type = channels.adapter(name).ok_response()
        documented = set(resolve(operation_by_id(name)["responses"]["200"])["content"])
        assert documented == {content_type.split(";")[0]}, f"{name}: openapi.yaml {documented}, adapter {content_type}"


# --------------------------------------------------------------------------- auth and errors


def test_api_operations_need_the_personal_token_and_webhooks_do_not():
    default = spec().get("security")
    assert spec()["components"]["securitySchemes"]["personalToken"] == {
        **spec()["components"]["securitySchemes"]["personalToken"],
        "type": "http",
        "scheme": "bearer",
    }
    wrong = []
    for (path, method), operation in operations().items():
        security = operation.get("security", default)
        if path.startswith("/api/"):
            if security != [{"personalToken": []}] or "401" not in map(str, operation["responses"]):
                wrong.append(f"{method} {path}: needs security personalToken and a 401 response")
        elif security != []:
            wrong.append(f"{method} {path}: not an /api route, so `security: []` (it has its own signature check)")
    assert not wrong, "\n".join(wrong)


def test_every_error_response_is_the_shared_error_schema():
    """JSON errors everywhere, except the customers' pages, whose errors are pages too
    (chalicelib/feedback/pages.py renders `link_error`); Chalice's own 415 is JSON even there."""
    error = {"$ref": "#/components/schemas/Error"}
    wrong = []
    for (path, method), operation in operations().items():
        for code, response in operation["responses"].items():
            if str(code)[0] not in "45":
                continue
            content = resolve(response).get("content", {})
            if operation["operationId"] in CONSOLE_JSON and str(code) in ("403", "404", "415"):
                continue  # the console's door answers these with its pages before the action runs
            if operation["operationId"] in HTML_PAGES and str(code) != "415":
                if set(content) != {"text/html"}:
                    wrong.append(f"{method} {path} {code}: the page's errors are text/html, not {sorted(content)}")
            elif set(content) != {"application/json"} or content["application/json"].get("schema") != error:
                wrong.append(f"{method} {path} {code}: not application/json {error}")
    assert not wrong, "\n".join(wrong)
    assert flatten(error)["required"] == {"Code", "Message"}
    assert set(flatten(error)["properties"]) == {"Code", "Message", "Field"}


def test_operations_reading_a_body_document_400_413_and_415():
    """Every body is checked (400) and typed (415, Chalice); the API and the webhooks also cap
    its size (413, `http.body(raw, limit)`)."""
    wrong = []
    for (path, method), operation in operations().items():
        if "requestBody" not in operation:
            continue
        needed = {"400", "415"} | ({"413"} if path.startswith(("/api/", "/webhooks/")) else set())
        missing = needed - set(map(str, operation["responses"]))
        if missing:
            wrong.append(f"{operation['operationId']} ({method} {path}): missing {sorted(missing)}")
    assert not wrong, "\n".join(wrong)
    from chalicelib import channels

    limits = {
        "api": api.MAX_BODY_BYTES,
        "form": form.MAX_BODY_BYTES,
        **{name: channels.adapter(name).MAX_BODY_BYTES for name in ("chat", "telegram", "viber", "twilio")},
    }
    webhooks = {name: limit for name, limit in limits.items() if name != "api"}
    assert set(webhooks.values()) == {64 * 1024}, f"openapi.yaml says webhook bodies over 64 KiB are refused: {limits}"
    assert limits["api"] == 256 * 1024, f"openapi.yaml says /api bodies over 256 KiB are refused: {limits}"
