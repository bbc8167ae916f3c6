"""Camunda typed variables `{"value": ..., "type": ..., "valueInfo": {...}}` <-> plain Python values.

opsflow keeps process data as plain JSON, so a value's Camunda type is not stored: it is checked and
converted on the way in, and inferred from the Python value on the way out.

In (a type name's first letter may be lower case, as Camunda accepts):

| type           | value                                   | becomes                                    |
|----------------|-----------------------------------------|--------------------------------------------|
| (none)         | any JSON value                          | itself (Camunda's untyped value)           |
| String         | string (numbers and booleans as text)   | str                                        |
| Boolean        | true/false, "true"/"false"              | bool                                       |
| Short/Integer/Long | integer (or its text) in the range  | int                                        |
| Double         | number (or its text)                    | float                                      |
| Date           | "yyyy-MM-dd'T'HH:mm:ss.SSSZ" or ISO-8601| ISO-8601 text with offset (naive: UTC)     |
| Json           | a string holding JSON                   | the parsed dict / list / scalar            |
| Object         | JSON text; valueInfo.serializationDataFormat | the parsed value                      |
|                | must be "application/json"              |                                            |
| Null           | anything                                | None                                       |
| Bytes, File, Xml, other Object formats, unknown | -                  | 400 InvalidRequestException        |

Out: None -> Null, bool -> Boolean, int -> Integer (Long beyond 32 bits), float -> Double, str -> String,
dict/list -> Json (value is the JSON text, as Camunda sends Json). A Date sent in comes back as String.
"""

import json
import math
from datetime import UTC, datetime
from typing import Any

from api.camunda.errors import invalid
from engine.jsontext import lone_surrogate_path, printable

INTEGER_RANGES = {
    "short": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
}
JSON_FORMAT = "application/json"
UNSUPPORTED = {"bytes", "file", "xml"}
CAMUNDA_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.{millis}%z"


def from_camunda(variables: dict[str, Any] | None) -> dict[str, Any]:
    """A request's `{"name": {"value", "type", "valueInfo"}}` map as plain Python."""
    if not variables:
        return {}
    if not isinstance(variables, dict):
        raise invalid("variables must be a JSON object of name -> {value, type, valueInfo}")
    return {name: to_python(name, typed) for name, typed in variables.items()}


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
        if kind in UNSUPPORTED:
            raise invalid(
                f"Unsupported value type '{type_name}' of variable '{name}': opsflow keeps JSON data only"
            )
        raise invalid(f"Unsupported value type '{type_name}' of variable '{name}'")
    if value is None and kind not in ("object",):
        return None
    return convert(name, type_name, value, info)


def _cannot(name: str, type_name: str, value: Any, why: str = "") -> Exception:
    suffix = f": {why}" if why else ""
    return invalid(f"Cannot convert value '{value}' of type '{type_name}' of variable '{name}'{suffix}")


def _string(name: str, type_name: str, value: Any, info: dict) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise _cannot(name, type_name, value)


def _boolean(name: str, type_name: str, value: Any, info: dict) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _cannot(name, type_name, value)


def _integer(name: str, type_name: str, value: Any, info: dict) -> int:
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


def _double(name: str, type_name: str, value: Any, info: dict) -> float:
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


def _date(name: str, type_name: str, value: Any, info: dict) -> str:
    if not isinstance(value, str):
        raise _cannot(name, type_name, value, "a date is a string like 2024-01-31T09:30:00.000+0100")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _cannot(
            name, type_name, value, "a date is a string like 2024-01-31T09:30:00.000+0100"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat(timespec="milliseconds")


def _json(name: str, type_name: str, value: Any, info: dict) -> Any:
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


def _object(name: str, type_name: str, value: Any, info: dict) -> Any:
    data_format = info.get("serializationDataFormat") if isinstance(info, dict) else None
    if data_format != JSON_FORMAT:
        raise invalid(
            f"Unsupported serialization data format '{data_format}' of Object variable '{name}': "
            f"only {JSON_FORMAT} is supported"
        )
    if value is None:
        return None
    return _json(name, type_name, value, info)


def _null(name: str, type_name: str, value: Any, info: dict) -> None:
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


def to_camunda_map(variables: dict[str, Any], names: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Variables as `{"name": VariableValueDto}`, only `names` (in their order) when given."""
    if names is not None:
        return {n: to_camunda(variables[n]) for n in names if n in variables}
    return {name: to_camunda(value) for name, value in variables.items()}


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
