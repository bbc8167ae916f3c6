"""Documents of an instance for whoever may see it: the visibility rule is the runtime's own."""

from pathlib import Path

from engine import documents
from engine.documents.model import Language
from engine.services.runtime import RuntimeService
from engine.views import Principal


class DocumentService:
    def __init__(self, runtime: RuntimeService, font: Path) -> None:
        self._runtime = runtime
        self._font = font

    def render(
        self, instance_id: str, kind: str, fmt: str, *, lang: Language, principal: Principal
    ) -> documents.RenderedDocument:
        # Read in the runtime's own transaction, then lay out with none open: a PDF takes about a second.
        instance = self._runtime.get_instance(instance_id, principal=principal).instance
        return documents.render(
            kind, fmt, instance.variables, business_key=instance.business_key, lang=lang, font=self._font
        )
