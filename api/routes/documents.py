"""The handbook's documents of an instance (Table 2-1, Table 2-2, the review) as Word or PDF downloads."""

from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Response

from api.deps import EngineDep, PrincipalDep
from api.routing import Route

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

router = APIRouter(prefix="/api/v1/process-instances", tags=["process instances"], route_class=Route)


@router.get(
    "/{instance_id}/documents/{kind}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, DOCX: {}}}},
)
def download(
    instance_id: str,
    kind: Literal["kickoff-minutes", "diagnosis-report", "review"],
    engine: EngineDep,
    principal: PrincipalDep,
    format: Literal["docx", "pdf"] = "pdf",
    lang: Literal["zh", "en"] = "zh",
) -> Response:
    """《优化启动会议纪要》 (kickoff-minutes), 《运营优化问题诊断报告》 (diagnosis-report) or the review,
    laid out like the handbook's tables; 409 while the instance has not recorded it yet."""
    document = engine.documents.render(instance_id, kind, format, lang=lang, principal=principal)
    return Response(
        document.content,
        media_type=document.media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(document.filename)}"},
    )
