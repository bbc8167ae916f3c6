"""Small decision tables written as Camunda Modeler writes them, built from a compact description."""

from xml.sax.saxutils import escape

DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def table_xml(
    rules: list[tuple[list[str], list[str]]],
    *,
    inputs: list[tuple[str, str | None]] = (("amount", "integer"),),
    outputs: list[str] = ("result",),
    hit_policy: str | None = None,
    aggregation: str | None = None,
    output_values: dict[str, str] | None = None,
    decision_id: str = "decision",
    name: str = "A decision",
) -> bytes:
    """inputs: (expression, typeRef); rules: ([input entries], [output entries])."""
    policy = f' hitPolicy="{hit_policy}"' if hit_policy else ""
    policy += f' aggregation="{aggregation}"' if aggregation else ""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<definitions xmlns="{DMN13}" xmlns:camunda="http://camunda.org/schema/1.0/dmn"'
        f' id="Definitions_{decision_id}" name="DRD" namespace="http://camunda.org/schema/1.0/dmn">',
        f'  <decision id="{decision_id}" name="{name}">',
        f'    <decisionTable id="DecisionTable_{decision_id}"{policy}>',
    ]
    for n, (expression, type_ref) in enumerate(inputs, 1):
        type_attr = f' typeRef="{type_ref}"' if type_ref else ""
        lines += [
            f'      <input id="Input_{n}" label="{escape(expression)}">',
            f'        <inputExpression id="InputExpression_{n}"{type_attr}>'
            f"<text>{escape(expression)}</text></inputExpression>",
            "      </input>",
        ]
    for n, output in enumerate(outputs, 1):
        values = (output_values or {}).get(output)
        lines.append(f'      <output id="Output_{n}" label="{output}" name="{output}" typeRef="string">')
        if values:
            lines.append(
                f'        <outputValues id="UnaryTests_values_{n}">'
                f"<text>{escape(values)}</text></outputValues>"
            )
        lines.append("      </output>")
    for r, (entries, results) in enumerate(rules, 1):
        lines.append(f'      <rule id="Rule_{r}">')
        lines += [
            f'        <inputEntry id="UnaryTests_{r}_{i}"><text>{escape(e)}</text></inputEntry>'
            for i, e in enumerate(entries, 1)
        ]
        lines += [
            f'        <outputEntry id="LiteralExpression_{r}_{i}"><text>{escape(o)}</text></outputEntry>'
            for i, o in enumerate(results, 1)
        ]
        lines.append("      </rule>")
    lines += ["    </decisionTable>", "  </decision>", "</definitions>"]
    return "\n".join(lines).encode()
