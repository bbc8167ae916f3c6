"""Camunda typed variables `{"value": ..., "type": ..., "valueInfo": {...}}` <-> plain Python values plus
their declared types.

Process data stays plain JSON (scripts, conditions and forms read plain values); the declared type and
valueInfo of each typed variable are stored beside it (engine/variable_types.py), so that a variable
comes back with the type it was sent with: a Long stays Long, a Date keeps its text, an Object keeps
its serializationDataFormat and objectTypeName, a File its filename and mimeType. A value changed later
by a script or form to something its declared type cannot hold is sent with the type of what it now is.

In (a type name's first letter may be lower case, as Camunda accepts):

| type               | value                                   | stored as                               |
|--------------------|-----------------------------------------|-----------------------------------------|
| (none)             | any JSON value                          | itself, type inferred on the way out    |
| String, Xml        | string (String: numbers/booleans as text)| str                                    |
| Boolean            | true/false, "true"/"false"              | bool                                    |
| Short/Integer/Long | integer (or its text) in the range      | int                                     |
| Double             | number (or its text)                    | float                                   |
| Date               | "yyyy-MM-dd'T'HH:mm:ss.SSSZ" or ISO-8601| the text as sent                        |
| Json               | a string holding JSON                   | the parsed value                        |
| Object             | JSON text, serializationDataFormat      | the parsed value                        |
|                    | "application/json"                      |                                         |
| Bytes, File        | base64 text (File: valueInfo filename,  | the base64 text                         |
|                    | mimeType, encoding)                     |                                         |
| Null               | anything                                | None                                    |
| other Object formats, unknown types | -                              | 400 InvalidRequestException    |

Out: the declared type when the value still fits it, else inferred: None -> Null, bool -> Boolean,
int -> Integer (Long beyond 32 bits), float -> Double, str -> String, dict/list -> Json (as JSON text).
"""

import base64
import binascii
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from api.camunda.errors import invalid
from engine import variable_types
from engine.jsontext import lone_surrogate_path, printable
from engine.types import JsonObject

INTEGER_RANGES = {
    "short": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
}
JSON_FORMAT = "application/json"
CAMUNDA_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.{millis}%z"


def from_camunda(variables: dict[str, Any] | None, *, typed: bool = True) -> dict[str, Any]:
    """A request's `{"name": {"value", "type", "valueInfo"}}` map as plain Python, with the declared
    types beside the values (engine/variable_types.py) unless `typed` is false (correlation keys,
    which are compared with values only)."""
    if not variables:
        return {}
    if not isinstance(variables, dict):
        raise invalid("variables must be a JSON object of name -> {value, type, valueInfo}")
    values: dict[str, Any] = {}
    types: dict[str, dict[str, Any]] = {}
    for name, given in variables.items():
        if variable_types.is_type_key(name):
            raise invalid(f"variable name {name!r} is reserved")
        values[name] = to_python(name, given)
        declared = declared_type(given)
        if declared is not None:
            types[name] = declared
    return variable_types.join(values, types) if typed else values


def declared_type(typed: Any) -> dict[str, Any] | None:
    """The `{type, valueInfo}` to store for a typed value as sent (None: untyped)."""
    if hasattr(typed, "model_dump"):
        typed = typed.model_dump()
    type_name = typed.get("type") if isinstance(typed, dict) else None
    if not type_name or not isinstance(type_name, str):
        return None
    info = typed.get("valueInfo") or {}
    canonical = type_name[:1].upper() + type_name[1:]
    return {"type": canonical, "valueInfo": info if isinstance(info, dict) else {}}


def to_python(name: str, typed: Any) -> Any:
    """One typed value (a dict or a pydantic model with value/type/valueInfo) as plain Python."""
    if hasattr(typed, "model_dump"):
        typed = typed.model_dump()
    if not isinstance(typed, dict):
        raise invalid(f"variable {name!r} must be an object with value, type and valueInfo")
    value, type_name = typed.get("value"), typed.get("type")
    info = typed.get("valueInfo") or {}
    if type_name is None or type_name == "":
        return value
    if not isinstance(type_name, str):
        raise invalid(f"variable {name!r}: the type must be a string")
    kind = type_name[:1].lower() + type_name[1:]
    convert = _CONVERTERS.get(kind)
    if convert is None:
        raise invalid(f"Unsupported value type '{type_name}' of variable '{name}'")
    if value is None and kind not in ("object",):
        return None
    return convert(name, type_name, value, info)


def _cannot(name: str, type_name: str, value: Any, why: str = "") -> Exception:
    suffix = f": {why}" if why else ""
    return invalid(f"Cannot convert value '{value}' of type '{type_name}' of variable '{name}'{suffix}")


def _string(name: str, type_name: str, value: Any, info: JsonObject) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise _cannot(name, type_name, value)


def _boolean(name: str, type_name: str, value: Any, info: JsonObject) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _cannot(name, type_name, value)


def _integer(name: str, type_name: str, value: Any, info: JsonObject) -> int:
    kind = type_name[:1].lower() + type_name[1:]
    low, high = INTEGER_RANGES[kind]
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            number = None
    if number is None:
        raise _cannot(name, type_name, value)
    if not low <= number <= high:
        raise _cannot(name, type_name, value, f"out of range {low}..{high}")
    return number


def _double(name: str, type_name: str, value: Any, info: JsonObject) -> float:
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise _cannot(name, type_name, value)
    return number


def _date(name: str, type_name: str, value: Any, info: JsonObject) -> str:
    if not isinstance(value, str):
        raise _cannot(name, type_name, value, "a date is a string like 2024-01-31T09:30:00.000+0100")
    parse_date(f"variable '{name}'", value)
    return value


def parse_date(what: str, value: str) -> datetime:
    """Camunda's date text (yyyy-MM-dd'T'HH:mm:ss.SSSZ, +0100 or +01:00, or without a zone: UTC)."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
        except ValueError:
            raise invalid(
                f"Cannot convert value '{value}' of {what} to a date: "
                "a date is a string like 2024-01-31T09:30:00.000+0100"
            ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _text(name: str, type_name: str, value: Any, info: JsonObject) -> str:
    if not isinstance(value, str):
        raise _cannot(name, type_name, value, "a string")
    return value


def _binary(name: str, type_name: str, value: Any, info: JsonObject) -> str:
    """Bytes and File: base64 text, checked and kept as sent (opsflow's data is JSON)."""
    if not isinstance(value, str):
        raise _cannot(name, type_name, value, "base64 text")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _cannot(name, type_name, value[:40], "not valid base64") from None
    return value


def _json(name: str, type_name: str, value: Any, info: JsonObject) -> Any:
    if not isinstance(value, str):
        raise invalid(
            f"Must provide 'null' or String value for value of SerializableValue type '{type_name}' "
            f"(variable '{name}')"
        )
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise invalid(f"Cannot deserialize the {type_name} value of variable '{name}': {exc}") from None
    where = lone_surrogate_path(parsed)
    if where is not None:  # the body's own check cannot see inside this string (engine/jsontext.py)
        inside = f" at {where}" if where else ""
        raise invalid(
            f"The {type_name} value of variable '{printable(name)}' holds a lone UTF-16 surrogate{inside}"
        )
    return parsed


def _object(name: str, type_name: str, value: Any, info: JsonObject) -> Any:
    data_format = info.get("serializationDataFormat") if isinstance(info, dict) else None
    if data_format != JSON_FORMAT:
        raise invalid(
            f"Unsupported serialization data format '{data_format}' of Object variable '{name}': "
            f"only {JSON_FORMAT} is supported"
        )
    if value is None:
        return None
    return _json(name, type_name, value, info)


def _null(name: str, type_name: str, value: Any, info: JsonObject) -> None:
    return None


_CONVERTERS = {
    "string": _string,
    "boolean": _boolean,
    "short": _integer,
    "integer": _integer,
    "long": _integer,
    "double": _double,
    "date": _date,
    "json": _json,
    "object": _object,
    "null": _null,
    "xml": _text,
    "bytes": _binary,
    "file": _binary,
}


# --- out ---------------------------------------------------------------------------------------------


def to_camunda(value: Any) -> dict[str, Any]:
    """A plain Python value as Camunda's VariableValueDto, its type inferred."""
    if value is None:
        return _typed("Null", None)
    if isinstance(value, bool):
        return _typed("Boolean", value)
    if isinstance(value, int):
        low, high = INTEGER_RANGES["integer"]
        return _typed("Integer" if low <= value <= high else "Long", value)
    if isinstance(value, float):
        return _typed("Double", value if math.isfinite(value) else None)
    if isinstance(value, str):
        return _typed("String", value)
    if isinstance(value, dict | list | tuple):
        return _typed("Json", json.dumps(value, ensure_ascii=False, default=str))
    if isinstance(value, datetime):
        return _typed("String", value.isoformat())
    return _typed("String", str(value))


def to_camunda_map(
    variables: dict[str, Any], names: list[str] | None = None, types: dict[str, JsonObject] | None = None
) -> dict[str, dict[str, Any]]:
    """Variables as `{"name": VariableValueDto}` with their declared types, only `names` (in their
    order) when given."""
    types = types or {}
    chosen = [n for n in names if n in variables] if names is not None else list(variables)
    return {name: typed_value(variables[name], types.get(name)) for name in chosen}


#: declared type (lower case) -> whether a stored value still fits it
_FITS: dict[str, Callable[[object], bool]] = {
    "string": lambda v: isinstance(v, str),
    "xml": lambda v: isinstance(v, str),
    "date": lambda v: isinstance(v, str),
    "bytes": lambda v: isinstance(v, str),
    "file": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "short": lambda v: _int_in(v, "short"),
    "integer": lambda v: _int_in(v, "integer"),
    "long": lambda v: _int_in(v, "long"),
    "double": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "json": lambda v: True,
    "object": lambda v: True,
    "null": lambda v: v is None,
}


def _int_in(value: Any, kind: str) -> bool:
    low, high = INTEGER_RANGES[kind]
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def typed_value(value: Any, declared: JsonObject | None) -> dict[str, Any]:
    """A stored value as Camunda's VariableValueDto: its declared type if the value still fits it."""
    if not declared:
        return to_camunda(value)
    type_name = str(declared.get("type") or "")
    kind = type_name[:1].lower() + type_name[1:]
    fits = _FITS.get(kind)
    if fits is None or not fits(value):
        return to_camunda(value)
    if value is None:
        return {"type": type_name, "value": None, "valueInfo": dict(declared.get("valueInfo") or {})}
    out: Any = value
    if kind in ("json", "object"):
        out = json.dumps(value, ensure_ascii=False)
    elif kind == "double":
        out = float(value)
    return {"type": type_name, "value": out, "valueInfo": dict(declared.get("valueInfo") or {})}


def binary_content(value: Any, declared: JsonObject | None) -> tuple[bytes, str] | None:
    """The bytes and media type of a Bytes or File variable (None: it is neither)."""
    kind = str((declared or {}).get("type") or "").lower()
    if kind not in ("bytes", "file") or not isinstance(value, str):
        return None
    info = (declared or {}).get("valueInfo") or {}
    media = info.get("mimeType") or "application/octet-stream"
    return base64.b64decode(value), media


def _typed(type_name: str, value: Any) -> dict[str, Any]:
    return {"type": type_name, "value": value, "valueInfo": {}}


def format_date(value: datetime | None) -> str | None:
    """Camunda's REST date format, yyyy-MM-dd'T'HH:mm:ss.SSSZ, in UTC: 2024-01-31T08:30:00.000+0000."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime(CAMUNDA_DATE_FORMAT.replace("{millis}", f"{value.microsecond // 1000:03d}"))
