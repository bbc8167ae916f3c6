"""The handbook's documents downloaded from an instance: Word and PDF, Chinese and English, with the
instance's own data laid out as the handbook's tables; written to test artifacts for a look."""

import io
import re
from pathlib import Path

import docx
import pypdf
import pytest

from tests.fixtures.handbook_data import KICKOFF_DAY, MILESTONES, VALID
from tests.fixtures.handbook_journey import DIAGNOSIS, STAGE_1, TEAM, data
from tests.helpers.api import Api

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # no storage of its own

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "documents"


def work(api: Api, instance_id: str, steps: list[tuple[str, str, dict]]) -> None:
    for element_id, role, form_data in steps:
        task = api.task_named(TEAM[role], element_id, instance_id)
        if task["assignee"] is None:  # tasks of the one person the team names are theirs already
            api.claim(TEAM[role], task["id"])
        api.complete(TEAM[role], task["id"], form_data)


def download(api: Api, user: str, instance_id: str, kind: str, fmt: str, lang: str, expect: int = 200):
    return api.call(
        user,
        "GET",
        f"/api/v1/process-instances/{instance_id}/documents/{kind}",
        expect,
        params={"format": fmt, "lang": lang},
    )


def docx_text(content: bytes) -> tuple[str, list[list[list[str]]]]:
    document = docx.Document(io.BytesIO(content))
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]
    return "\n".join(p.text for p in document.paragraphs), tables


def pdf_text(content: bytes) -> str:
    # CJK text comes out with spaces between glyphs: compare without white space.
    return re.sub(
        r"[\s\x00]+", "", "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)
    )


def keep(name: str, content: bytes) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / name).write_bytes(content)


@pytest.fixture
def diagnosed(api: Api) -> str:
    instance_id = api.start("lei", data("start_trigger"), business_key="OPT-2026-007")["id"]
    work(api, instance_id, [*STAGE_1, *DIAGNOSIS])
    return instance_id


def test_kickoff_minutes_as_word_are_table_2_1_with_the_meeting_s_data(api: Api, diagnosed: str) -> None:
    response = download(api, "dana", diagnosed, "kickoff-minutes", "docx", "zh")
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "OPT-2026-007-kickoff-minutes.docx" in response.headers["content-disposition"]
    keep("kickoff-minutes.zh.docx", response.content)
    text, tables = docx_text(response.content)
    assert "表2-1 运营优化启动会议纪要" in text
    rows = {label: value for label, value in tables[0]}
    minutes = VALID["kickoff_minutes"]
    assert list(rows) == [
        "会议主题", "参会人员", "时间", "地点/线上", "问题描述", "优化目标",
        "分工安排（姓名/职责）", "总周期", "关键节点计划", "待协调资源", "决议事项",
    ]  # fmt: skip
    assert rows["会议主题"] == minutes["meeting_topic"]
    assert rows["时间"] == f"{KICKOFF_DAY} 10:00"
    assert rows["优化目标"] == "注册转化率：从15%提升至20%"
    assert rows["分工安排（姓名/职责）"].splitlines()[1] == "戴娜 — 数据收集与清洗、问题拆解、效果量化"
    assert f"{MILESTONES['diagnosis']}  完成问题诊断报告（深度诊断）" in rows["关键节点计划"]
    assert rows["总周期"] == minutes["total_duration"]


def test_diagnosis_report_as_pdf_lists_each_problem_row_of_table_2_2(api: Api, diagnosed: str) -> None:
    response = download(api, "lei", diagnosed, "diagnosis-report", "pdf", "zh")
    assert response.headers["content-type"] == "application/pdf"
    keep("diagnosis-report.zh.pdf", response.content)
    text = pdf_text(response.content)
    assert "表2-2运营优化问题诊断报告" in text
    for header in ("问题模块", "核心指标表现", "数据来源", "初步根因假设", "确认根因"):
        assert header in text
    for problem in VALID["diagnosis_report"]["problems"]:
        assert re.sub(r"\s+", "", problem["root_cause"]) in text
        assert problem["impact"] in text


def test_documents_read_in_english_too(api: Api, diagnosed: str) -> None:
    response = download(api, "lei", diagnosed, "kickoff-minutes", "pdf", "en")
    keep("kickoff-minutes.en.pdf", response.content)
    text = pdf_text(response.content)
    assert "Table2-1Operationsoptimizationkick-offminutes" in text
    assert "Optimizationgoal" in text and "注册转化率:from15%to20%" in text.replace("：", ":")
    _, tables = docx_text(download(api, "lei", diagnosed, "diagnosis-report", "docx", "en").content)
    assert tables[0][0][:2] == ["Problem module", "Core metric"]
    assert tables[0][1][0] == "用户注册流程"


def test_a_document_the_instance_has_not_reached_is_a_conflict_that_says_so(api: Api, diagnosed: str) -> None:
    answer = download(api, "lei", diagnosed, "review", "pdf", "zh", expect=409)
    assert answer["error"] == "conflict" and "review (stage 6) is not recorded yet" in answer["message"]


def test_only_those_who_may_see_the_instance_get_its_documents(api: Api, diagnosed: str) -> None:
    download(api, "dora", diagnosed, "kickoff-minutes", "pdf", "zh", expect=404)
    download(api, None, diagnosed, "kickoff-minutes", "pdf", "zh", expect=401)


def test_unknown_documents_and_formats_are_refused(api: Api, diagnosed: str) -> None:
    download(api, "lei", diagnosed, "minutes", "pdf", "zh", expect=422)
    download(api, "lei", diagnosed, "kickoff-minutes", "odt", "zh", expect=422)
    download(api, "lei", diagnosed, "kickoff-minutes", "pdf", "fr", expect=422)
