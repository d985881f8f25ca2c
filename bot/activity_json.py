"""An incoming activity's JSON read into the SDK's `Activity`, as msrest reads it, in a fifth of the time.

msrest's `Activity.deserialize` walks every model generically (a new deserializer per call, a copy
of each attribute's description, key extractors, type dispatch by name); it was a tenth of a status
question's CPU (issue 14). Bot Framework schema models have no validation rules, subtypes,
flattened keys or enums, so for the JSON an activity actually holds (objects, lists, strings,
booleans, integers, ISO 8601 times) reading it is a direct walk of each model's `_attribute_map`:
the value under each key, converted to the declared type, and the keys no attribute names kept in
`additional_properties`, as msrest does. Anything else (a number where a string belongs, a string
where a list belongs, …) is left to msrest, so the result is always exactly msrest's, errors included.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from botbuilder.schema import Activity
from msrest.serialization import Deserializer, Model


class _NotPlain(Exception):
    """The JSON is not in a shape the direct walk knows to read exactly as msrest would."""


@cache
def _models() -> dict[str, type]:
    """The schema's classes by name, as msrest resolves a declared type."""
    return Activity._infer_class_models()  # type: ignore[no-any-return]


def _value(value: Any, data_type: str) -> Any:
    if value is None:
        return None
    kind = type(value)
    if data_type == "str":
        if kind is str:
            return value
    elif data_type == "object":
        # JSON as json.loads makes it: msrest's copy of it would be equal.
        return value
    elif data_type == "bool" or data_type == "int":
        if kind is (bool if data_type == "bool" else int):
            return value
    elif data_type == "iso-8601":
        if kind is str:
            return Deserializer.deserialize_iso(value)
    elif data_type[0] == "[" and data_type[-1] == "]":
        if kind is list:
            inner = data_type[1:-1]
            return [_value(item, inner) for item in value]
    elif data_type[0] == "{" and data_type[-1] == "}":
        if kind is dict:
            inner = data_type[1:-1]
            return {key: _value(item, inner) for key, item in value.items()}
    else:
        model = _models().get(data_type)
        if model is not None and issubclass(model, Model) and kind is dict:
            return _model(model, value)
    raise _NotPlain


def _model(cls: type[Model], data: dict[str, Any]) -> Model:
    if getattr(cls, "_validation", None) or getattr(cls, "_subtype_map", None):
        raise _NotPlain
    values: dict[str, Any] = {}
    known: set[str] = set()
    for attr, description in cls._attribute_map.items():
        key = description["key"]
        if attr == "additional_properties" or "." in key or "\\" in key:
            raise _NotPlain
        known.add(key)
        values[attr] = _value(data.get(key), description["type"])
    model = cls(**values)
    unknown = data.keys() - known
    if unknown:
        model.additional_properties = {key: data[key] for key in unknown}
    return model


def read_activity(payload: dict[str, Any]) -> Activity:
    """The activity in `payload` (parsed JSON), exactly as `Activity.deserialize(payload)` would make it."""
    try:
        return _model(Activity, payload)  # type: ignore[return-value]
    except _NotPlain:
        return Activity.deserialize(payload)
