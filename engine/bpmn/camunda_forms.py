"""Camunda 7 generated task forms (`camunda:formData`) as form-js schemas, made at deploy so that
such tasks are shown and validated like any deployed form."""

from lxml import etree

from engine.bpmn.xml import NS
from engine.types import JsonObject

# formField type -> form-js component (and its fixed settings)
_TYPES: dict[str, JsonObject] = {
    "string": {"type": "textfield"},
    "textarea": {"type": "textarea"},
    "long": {"type": "number", "decimalDigits": 0},
    "boolean": {"type": "checkbox"},
    "date": {"type": "datetime", "subtype": "date"},
    "enum": {"type": "select"},
}
# camunda:constraint name -> form-js validate rule
_RULES = {"minlength": "minLength", "maxlength": "maxLength", "min": "min", "max": "max"}


def form_data_key(process_id: str, element_id: str) -> str:
    """The deployed form key of an element's generated form."""
    return f"{process_id}.{element_id}"


def has_form_data(node: etree._Element) -> bool:
    return bool(node.xpath("./bpmn:extensionElements/camunda:formData", namespaces=NS))


def form_data_schema(node: etree._Element, key: str) -> tuple[JsonObject, list[str]]:
    """(form-js schema, problems) for the element's camunda:formData."""
    components: list[JsonObject] = []
    problems: list[str] = []
    fields = node.xpath("./bpmn:extensionElements/camunda:formData/camunda:formField", namespaces=NS)
    for field in fields:
        field_id, field_type = field.get("id"), field.get("type") or "string"
        if not field_id:
            problems.append("a camunda:formField needs an id (the variable it sets)")
            continue
        if field_type not in _TYPES:
            problems.append(
                f"form field {field_id}: type {field_type!r} is not supported "
                f"(use one of {', '.join(_TYPES)})"
            )
            continue
        component: JsonObject = {
            **_TYPES[field_type],
            "id": f"Field_{field_id}",
            "key": field_id,
            "label": field.get("label") or field_id,
        }
        default = field.get("defaultValue")
        if default is not None and not default.startswith(("${", "#{")):
            component["defaultValue"] = _typed(default, field_type)
        if field_type == "enum":
            component["values"] = [
                {"value": v.get("id"), "label": v.get("name") or v.get("id")}
                for v in field.xpath("./camunda:value", namespaces=NS)
            ]
        validate: JsonObject = {}
        for constraint in field.xpath("./camunda:validation/camunda:constraint", namespaces=NS):
            name, config = constraint.get("name"), constraint.get("config")
            if name == "required":
                validate["required"] = True
            elif name in ("readonly", "disabled"):
                component["readonly"] = True
            elif name in _RULES and config is not None and _is_number(config):
                validate[_RULES[name]] = int(float(config)) if name.endswith("length") else float(config)
            else:
                problems.append(f"form field {field_id}: constraint {name!r} is not supported")
        if validate:
            component["validate"] = validate
        components.append(component)
    schema = {"id": key, "type": "default", "schemaVersion": 16, "components": components}
    return schema, problems


def _typed(value: str, field_type: str) -> object:
    if field_type == "long" and _is_number(value):
        return int(float(value))
    if field_type == "boolean":
        return value.strip().lower() == "true"
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
