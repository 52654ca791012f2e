"""A sender who gets it wrong gets a specific JSON error, and nothing is stored."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.channels.form import MAX_BODY_BYTES
from chalicelib.models import Customer, Key, Message, Ticket

GOOD = {"submission_id": "x1", "email": "a@example.com", "message": "Help", "subject": "Hi"}


def nothing_stored() -> bool:
    return not any(list(model.scan(limit=1)) for model in (Ticket, Message, Customer, Key))


@pytest.mark.parametrize(
    "signature, why",
    [
        ("", "missing X-Promptly-Signature"),
        ("sha256=" + "0" * 64, "does not match"),
        ("md5=abc", "must look like"),
        ("sha256=пароль", "does not match"),
    ],
)
def test_bad_or_missing_signature_is_401(desk, signature, why):
    response = desk.post_form(GOOD, signature=signature)

    assert response.status_code == 401
    assert response.json_body["Code"] == "Unauthorized"
    assert why in response.json_body["Message"]
    assert nothing_stored()


def test_signature_of_another_body_is_refused(desk):
    other = json.dumps({**GOOD, "message": "tampered"}).encode()
    from tests.harness import website_headers

    signed_other = website_headers(desk.form_secret, other)["X-Promptly-Signature"]
    response = desk.post_form(raw=json.dumps(GOOD).encode(), signature=signed_other)

    assert response.status_code == 401 and nothing_stored()


@pytest.mark.parametrize(
    "timestamp, why",
    [
        ("", "missing X-Promptly-Timestamp"),
        ("Mon, 23 Nov 2026 08:00:00 GMT", "must be unix seconds"),
        ("-1795420800", "must be unix seconds"),
        ("1795420800.5", "must be unix seconds"),
    ],
)
def test_missing_or_malformed_timestamp_is_401(desk, timestamp, why):
    response = desk.post_form(GOOD, timestamp=timestamp)

    assert response.status_code == 401
    assert why in response.json_body["Message"]
    assert nothing_stored()


def test_a_submission_signed_more_than_five_minutes_ago_is_401(desk):
    """A captured submission (headers and body as they were) replayed later is refused."""
    from datetime import timedelta

    from chalicelib import clock
    from chalicelib.signing import unix_seconds

    then = unix_seconds(clock.now())
    desk.advance(timedelta(minutes=5, seconds=30))

    response = desk.post_form(GOOD, timestamp=then)

    assert response.status_code == 401
    assert "X-Promptly-Timestamp is 330 s away from the desk's clock" in response.json_body["Message"]
    assert nothing_stored()


def test_the_old_signature_of_the_body_alone_is_refused(desk):
    from chalicelib.signing import hmac_hex

    body = json.dumps(GOOD).encode()
    response = desk.post_form(raw=body, signature="sha256=" + hmac_hex(desk.form_secret, body))

    assert response.status_code == 401
    assert "does not match '<X-Promptly-Timestamp>.<body>'" in response.json_body["Message"]
    assert nothing_stored()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({**GOOD, "email": "not-an-address"}, "email"),
        ({k: v for k, v in GOOD.items() if k != "message"}, "message"),
        ({**GOOD, "message": "   "}, "message"),
        ({k: v for k, v in GOOD.items() if k != "submission_id"}, "submission_id"),
        ({**GOOD, "timezone": "Mars/Olympus"}, "timezone"),
        ({**GOOD, "timezone": "x" * 300}, "timezone"),  # too long for a file name: was a 500
        ({**GOOD, "locale": "<script>"}, "locale"),
        ({**GOOD, "message": ["not", "text"]}, "message"),
    ],
)
def test_missing_or_invalid_fields_are_400_naming_the_field(desk, payload, field):
    response = desk.post_form(payload)

    assert response.status_code == 400
    assert response.json_body["Field"] == field
    assert response.json_body["Message"].startswith(field)
    assert nothing_stored()


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_malformed_json_is_400(desk, raw, message):
    response = desk.post_form(raw=raw)

    assert response.status_code == 400 and message in response.json_body["Message"]
    assert nothing_stored()


def test_body_over_the_limit_is_413(desk):
    response = desk.post_form({**GOOD, "message": "x" * MAX_BODY_BYTES})

    assert response.status_code == 413
    assert str(MAX_BODY_BYTES) in response.json_body["Message"]
    assert nothing_stored()


def test_wrong_content_type_is_415(desk):
    response = desk.post_form(GOOD, content_type="text/plain")

    assert response.status_code == 415
    assert response.json_body["Code"] == "UnsupportedMediaType"
    assert nothing_stored()


def test_customer_text_is_escaped_in_the_html_acknowledgement(desk):
    desk.post_form({**GOOD, "subject": "<img src=x onerror=alert(1)>", "name": "<b>Eve</b>"})
    desk.pump()

    [mail] = desk.sent_mail()
    assert "<img src=x" not in mail["html"] and "&lt;img src=x" in mail["html"]
    assert "<b>Eve</b>" not in mail["html"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
form_like = st.fixed_dictionaries(
    {},
    optional={
        "submission_id": json_values,
        "email": json_values | st.emails(),
        "message": json_values,
        "subject": json_values,
        "name": json_values,
        "locale": json_values,
        "timezone": json_values,
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300) | form_like.map(lambda d: json.dumps(d).encode()))
def test_no_signed_body_makes_a_500(desk, body):
    response = desk.post_form(raw=body)

    assert response.status_code in (200, 400), response.body


@pytest.mark.parametrize("raw", [b'{"n": ' + b"9" * 5000 + b"}", b"[" * 70000])
def test_hostile_json_is_a_400_not_a_500(desk, raw):
    response = desk.post_form(raw=raw)

    assert response.status_code in (400, 413)
    assert nothing_stored()


def test_a_malformed_email_is_a_sentence_not_a_regex(desk):
    response = desk.post_form({**GOOD, "email": "olena at example.com"})

    assert response.status_code == 400 and nothing_stored()
    assert response.json_body == {
        "Code": "BadRequest",
        "Field": "email",
        "Message": "email: that is not an email address we can write to",
    }


def body_models() -> list[type]:
    """Every model a request body is validated with: the webhooks', the API's, the local clock's."""
    from chalicelib import api, dev_clock
    from chalicelib.channels import chat, form

    return [
        form.Submission,
        chat.ChatMessage,
        api.NewAgent,
        api.AgentChanges,
        api.Text,
        api.Handover,
        api.Assign,
        api.Status,
        api.Priority,
        api.Roster,
        dev_clock.ClockMove,
    ]


def read_body(model: type, raw: bytes) -> object:
    """A body as the desk reads it: the contact form's without pydantic, the others with it."""
    from chalicelib.channels import form
    from chalicelib.http import json_object, validated

    return form.read_submission(json_object(raw)) if model is form.Submission else validated(model, raw)


@pytest.mark.parametrize("model", body_models(), ids=lambda model: model.__name__)
def test_every_400_of_a_body_is_a_sentence_a_person_can_act_on(model):
    """Each field broken each way it can be (a pattern, a length, a type, missing, unknown): the
    message names the field and says what is wrong without quoting a regex or a Python type."""
    from pydantic import TypeAdapter

    from chalicelib.errors import BadRequest

    schema = TypeAdapter(model).json_schema()
    broken: list[dict] = [{"not_a_field": 1}] if schema.get("additionalProperties") is False else []
    broken += [{}]  # required fields missing
    for name, prop in schema["properties"].items():
        variants = prop.get("anyOf", [prop])
        if any("pattern" in v for v in variants):
            broken.append({name: "not valid <at all>"})
        for limit in ("maxLength", "maxItems"):
            if any(limit in v for v in variants):
                size = next(v[limit] for v in variants if limit in v) + 1
                broken.append({name: "x" * size if limit == "maxLength" else ["x"] * size})
        broken.append({name: {"an": "object"}})
    said = set()
    for body in broken:
        try:
            read_body(model, json.dumps(body).encode())
        except BadRequest as error:
            said.add(error.message)
    assert said, model
    for message in said:
        assert not any(word in message for word in ("should", "pattern", "^", "$", "Input", "dict", "str")), message


FORM_FIELDS = ("submission_id", "email", "name", "subject", "message", "locale", "timezone")
FIELD_VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["a@example.com", " a@example.com ", "uk", "pt-BR", "Europe/Kyiv", "Mars/Olympus", "\x1c", "\u3000x", "a\ud83d"]
    ),
    st.text(alphabet="x", min_size=199, max_size=301),
    st.none(),
    st.integers(),
    st.booleans(),
    st.lists(st.text(max_size=3), max_size=2),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(FORM_FIELDS), FIELD_VALUES))
def test_the_form_is_read_without_pydantic_exactly_as_pydantic_reads_its_class(body):
    """The webhook reads the contact form by hand (no pydantic on its cold start); pydantic reads
    the same class for openapi.yaml. Both take the same bodies to the same values, and refuse
    the others naming the same first field in the same words."""
    from pydantic import TypeAdapter, ValidationError

    from chalicelib.channels import form
    from chalicelib.errors import BadRequest
    from chalicelib.http import sentence

    try:
        expected: object = TypeAdapter(form.Submission).validate_python(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])  # as http.checked names it
        expected = (where, f"{where}: {sentence(first)}")
    try:
        got: object = form.read_submission(body)
    except BadRequest as error:
        got = (error.field, error.message)
    assert got == expected
