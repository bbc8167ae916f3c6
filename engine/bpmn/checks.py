"""Deploy-time checks of a BPMN file's XML, before SpiffWorkflow sees it: what it would report with a
misleading message, at run time, or not at all. Problems refuse the file; warnings do not."""

from lxml import etree

from engine.bpmn import camunda_io, timers
from engine.bpmn.sandbox import check_expression, check_script, literal_value
from engine.bpmn.xml import NS, camunda, local_name
from engine.errors import Problem

# What conditions and scripts may be written in: Python, and JUEL `${...}` (translated to Python).
RUNNABLE_LANGUAGES = {"", "python", "juel"}


def check_references(root: etree._Element, filename: str) -> list[Problem]:
    """Dangling references, which SpiffWorkflow reports with a misleading message or not at all."""
    ids = set(root.xpath("//@id"))
    problems = []
    for flow in root.xpath("//bpmn:sequenceFlow", namespaces=NS):
        for end in ("sourceRef", "targetRef"):
            ref = flow.get(end)
            if not ref or ref not in ids:
                problems.append(
                    _at(flow, filename, f"sequence flow {end} points to a missing element '{ref}'")
                )
    for node in root.xpath("//bpmn:*[@default]", namespaces=NS):
        if node.get("default") not in ids:
            problems.append(_at(node, filename, f"default flow '{node.get('default')}' does not exist"))
    return problems


def check_expressions(root: etree._Element, filename: str) -> list[Problem]:
    """Conditions, timers and scripts must be in a language we run and compile under the sandbox's
    policy before anything runs."""
    problems = []
    checks = [
        ("//bpmn:sequenceFlow/bpmn:conditionExpression", check_expression, "condition"),
        ("//bpmn:timerEventDefinition/*", check_expression, "timer"),
        ("//bpmn:scriptTask/bpmn:script", check_script, "script"),
    ]
    for xpath, check, kind in checks:
        for node in root.xpath(xpath, namespaces=NS):
            source = (node.text or "").strip()
            owner = node.getparent()
            if local_name(owner) == "timerEventDefinition":
                owner = owner.getparent()
            language = (node.get("language") or owner.get("scriptFormat") or "").strip()
            if language.lower() not in RUNNABLE_LANGUAGES:
                problems.append(_unsupported_language(owner, filename, kind, language))
                continue
            if kind == "condition" and camunda(node, "resource"):
                problems.append(
                    _at(
                        owner,
                        filename,
                        "a condition loaded from camunda:resource is not supported: write it inline",
                    )
                )
                continue
            if not source:
                if kind != "condition":
                    problems.append(_at(owner, filename, f"empty {kind}", line=node.sourceline))
                continue
            if kind == "timer" and is_cron(source):
                if local_name(owner) != "startEvent" or local_name(owner.getparent()) != "process":
                    problems.append(
                        _at(
                            owner,
                            filename,
                            "cron timer cycles are supported on timer start events only: "
                            "use an ISO 8601 cycle (R/PT5M) here",
                            line=node.sourceline,
                        )
                    )
                continue  # a Quartz cron expression (engine.bpmn.cron)
            error = check(source)
            if not error and kind == "timer":
                error = _timer_bound(node, owner, source)
                if error:
                    problems.append(_at(owner, filename, f"timer {source!r}: {error}", line=node.sourceline))
                    continue
            if error:
                problems.append(
                    _at(owner, filename, f"{kind} {source!r} does not compile: {error}", line=node.sourceline)
                )
    for task in root.xpath("//bpmn:scriptTask", namespaces=NS):
        scripts = task.xpath("./bpmn:script", namespaces=NS)
        if not scripts:
            resource = camunda(task, "resource")
            problems.append(
                _at(
                    task,
                    filename,
                    f"the script is loaded from camunda:resource {resource!r}, which this engine does not "
                    "read: write the script inline (Python)"
                    if resource
                    else "a script task needs a script",
                )
            )
    return problems


def check_unsupported(root: etree._Element, filename: str) -> list[Problem]:
    """Constructs that would deploy and then never work."""
    problems = []
    for definition in root.xpath("//bpmn:messageEventDefinition[not(@messageRef)]", namespaces=NS):
        event = definition.getparent()
        if local_name(event) in ("endEvent", "intermediateThrowEvent"):
            continue  # thrown: the message is named by the thrower's implementation
        problems.append(
            _at(
                event,
                filename,
                "this message event names no message (messageRef): nothing could ever reach it",
            )
        )
    for task in root.xpath("//bpmn:receiveTask[not(@messageRef)]", namespaces=NS):
        problems.append(
            _at(
                task, filename, "this receive task names no message (messageRef): nothing could ever reach it"
            )
        )
    for node in root.xpath(
        "//*[bpmn:extensionElements[camunda:inputOutput | camunda:in | camunda:out]]", namespaces=NS
    ):
        problems += [_at(node, filename, message) for message in camunda_io.unsupported(node)]
    for call in root.xpath("//bpmn:callActivity", namespaces=NS):
        called = (call.get("calledElement") or "").strip()
        if not called:
            problems.append(_at(call, filename, "a call activity needs calledElement (the process it calls)"))
        elif called.startswith(("${", "#{")):
            problems.append(
                _at(
                    call, filename, f"calledElement {called!r} is an expression: name the called process's id"
                )
            )
    return problems


def listener_warnings(root: etree._Element, filename: str) -> list[Problem]:
    """Camunda listeners run Java classes, delegate expressions or scripts: we cannot run them."""
    warnings = []
    for listener in root.xpath("//camunda:executionListener | //camunda:taskListener", namespaces=NS):
        owner = listener.getparent().getparent()
        what = (
            listener.get("class")
            or listener.get("delegateExpression")
            or listener.get("expression")
            or "a script"
        )
        kind = "task" if local_name(listener) == "taskListener" else "execution"
        warnings.append(
            _at(
                owner,
                filename,
                f"the {kind} listener ({what}, on {listener.get('event')}) is not run by this engine",
            )
        )
    return warnings


def is_cron(text: str) -> bool:
    """A Quartz/Unix cron expression (5 to 7 fields), as Camunda writes timer cycles."""
    fields = text.split()
    return 5 <= len(fields) <= 7 and not text.upper().startswith(("R", "P"))


def _unsupported_language(owner: etree._Element, filename: str, kind: str, language: str) -> Problem:
    return _at(
        owner,
        filename,
        f"the {kind} is written in {language}, which this engine does not run: write it in Python"
        + (" (or as a ${...} expression)" if kind == "condition" else ""),
    )


def _at(node: etree._Element, filename: str, message: str, *, line: int | None = None) -> Problem:
    return Problem(message, file=filename, line=line or node.sourceline, element_id=node.get("id"))


def _timer_bound(node: etree._Element, owner: etree._Element, source: str) -> str | None:
    """A literal timer value out of bounds (engine.bpmn.timers); one from data is checked when it runs."""
    value = literal_value(source)
    if value is None:
        return None
    non_interrupting = local_name(owner) == "boundaryEvent" and owner.get("cancelActivity") == "false"
    try:
        timers.check(local_name(node), value, timers.TimerBounds(), non_interrupting=non_interrupting)
    except timers.TimerBoundError as exc:
        return str(exc)
    return None
