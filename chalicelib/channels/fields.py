"""What a field of a channel's payload may hold, said once for every channel.

Every JSON channel reads its payload with pydantic models: the website's form and chat, and the
Telegram and Viber callbacks. The rules they share live here, so a language tag, a customer's
text and a point on the map mean the same whichever channel they came on:

- a language tag is `LANGUAGE_TAG` (at most `MAX_LANGUAGE_TAG` characters). The website's form and
  chat refuse anything else (their sender can fix it); a messenger's odd tag is dropped, since
  refusing it would lose the customer's message over a detail;
- text a provider relays has its lone UTF-16 surrogates (JSON allows them, UTF-8 cannot store them)
  replaced by U+FFFD (`clean_text`); the website's JSON is refused instead (pydantic's own rule);
- a coordinate is a finite number within ±90 (latitude) or ±180 (longitude), never a boolean.

For the providers' callbacks, each refusal is worded as a template naming the field (`refuse`),
and `validated` turns the first one into a BadRequest carrying the field's path
("message.photo[0].file_id must be a string"). Which fields refuse and which degrade is each
channel's choice, documented in its module.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated, Any, TypeGuard, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from chalicelib.channels import base
from chalicelib.errors import BadRequest
from chalicelib.http import pattern

Model = TypeVar("Model", bound=BaseModel)

LANGUAGE_TAG = pattern(base.LANGUAGE_TAG, base.LANGUAGE_TAG_MEANING)
MAX_LANGUAGE_TAG = base.MAX_LANGUAGE_TAG
_LANGUAGE_TAG = re.compile(LANGUAGE_TAG)
# the website's language field (form, chat), refused unless it is a tag
LanguageTag = Annotated[str, Field(max_length=MAX_LANGUAGE_TAG, pattern=LANGUAGE_TAG)]
_SURROGATE = re.compile("[\ud800-\udfff]")  # what is left of a pair after json.loads is a lone half
LATITUDE = 90
LONGITUDE = 180
_MAX_INTEGER = 2**63  # a JSON integer beyond 64 bits is junk (and would make an absurd key)
_WHERE = "{where}"  # in a refusal's wording, the path of the field at fault


# --------------------------------------------------------------------------- the shared rules


def language_tag(value: str) -> str | None:
    """`value` if it is a language tag ("uk", "pt-BR", "zh_Hant_TW"), else None."""
    return value if len(value) <= MAX_LANGUAGE_TAG and _LANGUAGE_TAG.fullmatch(value) else None


def clean_text(text: str) -> str:
    """`text` with each lone UTF-16 surrogate ("\\ud83d" alone) replaced by U+FFFD, so it can be
    stored as UTF-8; real emoji arrive as pairs, which json.loads has joined, and are kept."""
    return _SURROGATE.sub("\ufffd", text)


def has_surrogates(text: str) -> bool:
    """True if `text` cannot be stored as UTF-8 as it is (for ids, which are refused, not cleaned)."""
    return _SURROGATE.search(text) is not None


def coordinate(value: object, limit: int) -> float | None:
    """`value` as a float if it is a finite number from -`limit` to `limit` (LATITUDE, LONGITUDE);
    None for anything else, booleans and numeric strings included."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not (math.isfinite(value) and -limit <= value <= limit):
        return None
    return float(value)


def is_integer(value: object) -> TypeGuard[int]:
    """A JSON integer (bool is an int to Python, never to JSON)."""
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------- refusals in words


def refuse(wording: str) -> PydanticCustomError:
    """A validation error in our words; `{where}` in `wording` becomes the field's path."""
    return PydanticCustomError("channel_field", wording)


def validated(model: type[Model], data: Any) -> Model:
    """`data` as `model`, or BadRequest for its first wrong field, with that field's path."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = path(first["loc"])
        wording = str(first["msg"])
        message = wording.replace(_WHERE, where) if first["type"] == "channel_field" else f"{where}: {wording}"
        raise BadRequest(message, field=where or None) from None


def path(loc: tuple[int | str, ...]) -> str:
    """pydantic's location of an error as the payload's path: ("photo", 0, "file_id") → "photo[0].file_id"."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


class Payload(BaseModel):
    """A provider's object. Fields we do not read are ignored (providers add some every year), and
    an absent field is null: a required one is refused in its own words ("message.chat.id must be
    an integer"), an optional one takes its default."""

    # built on first use, not at import: a Lambda that only sends (the outbox) never builds them
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _absent_is_null(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        required = (field.alias or name for name, field in cls.model_fields.items() if field.is_required())
        return {**dict.fromkeys(required), **data}


# --------------------------------------------------------------------------- strict fields
# A provider's callback that has the wrong shape is refused: each type below checks the JSON type
# itself (pydantic would turn "12" into 12), so the refusal says what the field should be.


def _integer(minimum: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if not is_integer(value):
            raise refuse("{where} must be an integer")
        if not minimum <= value < _MAX_INTEGER:
            raise refuse("{where} is out of range")
        return int(value)

    return check


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`check`, except that null (or absent, with a default of None) is None."""
    return lambda value: None if value is None else check(value)


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise refuse("{where} must be a string")
    return clean_text(value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise refuse("{where} must be true or false")
    return value


def _language(value: Any) -> str | None:
    return None if value is None else language_tag(_string(value).strip())


def object_of(wording: str = "{where} must be an object", *, optional: bool = False) -> WrapValidator:
    """For `Annotated[SomeModel, object_of()]`: a nested object, refused in `wording` when it is not
    one (or, `optional`, not null either: null is None)."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if optional and value is None:
            return None
        if not isinstance(value, dict):
            raise refuse(wording)
        return handler(value)

    return WrapValidator(check)


def _coordinate(limit: int) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        number = coordinate(value, limit)
        if number is None:
            raise refuse(f"{{where}} must be a number from -{limit} to {limit}")
        return number

    return check


Integer = Annotated[int, BeforeValidator(_integer(-_MAX_INTEGER))]
NonNegative = Annotated[int, BeforeValidator(_integer(0))]
OptionalInteger = Annotated[int | None, BeforeValidator(_optional(_integer(-_MAX_INTEGER)))]
String = Annotated[str, BeforeValidator(_string)]
OptionalString = Annotated[str | None, BeforeValidator(_optional(_string))]
Boolean = Annotated[bool, BeforeValidator(_boolean)]
OptionalBoolean = Annotated[bool, BeforeValidator(lambda value: False if value is None else _boolean(value))]
# a messenger's language tag: not a string is refused, a string that is no tag is dropped (None)
Language = Annotated[str | None, BeforeValidator(_language)]
Latitude = Annotated[float, BeforeValidator(_coordinate(LATITUDE))]
Longitude = Annotated[float, BeforeValidator(_coordinate(LONGITUDE))]
Object = object_of()
OptionalObject = object_of(optional=True)


# --------------------------------------------------------------------------- lenient fields
# What a customer's message merely describes (a name, a caption, a file's size) degrades instead:
# a value of the wrong type reads as absent, so the message still reaches the agent.


def display_text(value: Any, limit: int) -> str:
    """A string field as display text: not a string is "", lone surrogates become U+FFFD, NULs
    are dropped, the ends trimmed and the length capped (with "…")."""
    if not isinstance(value, str):
        return ""
    return cut(clean_text(value).replace("\x00", "").strip(), limit)


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _size(value: Any) -> int:
    return value if is_integer(value) and 0 <= value < _MAX_INTEGER else 0


def _any_language(value: Any) -> str | None:
    return language_tag(value) if isinstance(value, str) else None


def _dict_or_none(value: Any) -> Any:
    return value if isinstance(value, dict) else None


Size = Annotated[int, BeforeValidator(_size)]  # a count of bytes or seconds; 0 when unusable
AnyLanguage = Annotated[str | None, BeforeValidator(_any_language)]  # None unless a language tag
AnyLatitude = Annotated[float | None, BeforeValidator(lambda value: coordinate(value, LATITUDE))]
AnyLongitude = Annotated[float | None, BeforeValidator(lambda value: coordinate(value, LONGITUDE))]
DictOrNone = BeforeValidator(_dict_or_none)  # for `Annotated[SomeModel | None, DictOrNone]`
