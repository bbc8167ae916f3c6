"""What the analytics need of a process diagram: element names and types, and its rework loops (flows
back to an element on the path from a start event) with the recorded steps before and after each."""

from collections.abc import Callable

from lxml import etree

from engine.bpmn.xml import BPMN_NS

#: elements whose completion the history records: where a rework loop is seen to start and end
_RECORDED = {"userTask", "serviceTask"}


class Diagram:
    """What the figures need of the BPMN: element names and types, the loops' flows."""

    def __init__(self, bpmn_xml: str) -> None:
        root = etree.fromstring(bpmn_xml.encode())
        self.kinds: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.flows: list[tuple[str, str, str, str]] = []  # (id, source, target, name)
        for element in root.iter(f"{{{BPMN_NS}}}*"):
            kind = etree.QName(element).localname
            element_id = element.get("id")
            if kind == "sequenceFlow":
                ends = (element.get("sourceRef"), element.get("targetRef"))
                self.flows.append((element_id, *ends, element.get("name") or ""))
            elif element_id:
                self.kinds[element_id] = kind
                self.names[element_id] = element.get("name") or ""
        self.loops = self._back_edges()

    def follows(self, source: str, target: str) -> bool:
        """Whether `target` is the next recorded element after `source` along some flow."""
        after = (t for _, s, t, _ in self.flows if s == source)
        return any(target in self._recorded(t, self._successors) for t in after)

    def _successors(self, element: str) -> list[str]:
        return [t for _, s, t, _ in self.flows if s == element]

    def _back_edges(self) -> list[tuple[str, str, set[str], set[str]]]:
        """(flow id, name, the recorded elements just before it, those just after): the flows that go
        back to an element on the path from a start event (a depth-first search over the flows)."""
        outgoing: dict[str, list[tuple[str, str]]] = {}
        incoming: dict[str, list[str]] = {}
        for flow_id, source, target, _ in self.flows:
            outgoing.setdefault(source, []).append((flow_id, target))
            incoming.setdefault(target, []).append(source)
        back: list[str] = []
        done: set[str] = set()
        for start in (e for e, kind in self.kinds.items() if kind == "startEvent"):
            stack = [(start, iter(outgoing.get(start, [])))]
            on_path = {start}
            while stack:
                node, children = stack[-1]
                step = next(children, None)
                if step is None:
                    stack.pop()
                    on_path.discard(node)
                    done.add(node)
                    continue
                flow_id, target = step
                if target in on_path:
                    back.append(flow_id)
                elif target not in done:
                    on_path.add(target)
                    stack.append((target, iter(outgoing.get(target, []))))
        by_id = {f[0]: f for f in self.flows}
        loops = []
        for flow_id in back:
            _, source, target, name = by_id[flow_id]
            before = self._recorded(source, lambda e: incoming.get(e, []))
            after = self._recorded(target, lambda e: [t for _, t in outgoing.get(e, [])])
            loops.append((flow_id, name, before, after))
        return loops

    def _recorded(self, element: str, neighbours: Callable[[str], list[str]]) -> set[str]:
        """The nearest recorded elements from `element` (itself included) walking `neighbours`."""
        found: set[str] = set()
        seen: set[str] = set()
        todo = [element]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            if self.kinds.get(current) in _RECORDED:
                found.add(current)
            else:
                todo.extend(neighbours(current))
        return found
