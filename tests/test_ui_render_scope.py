"""UI rendering of issue 11: an answer's scope notice and the judge of a verdict (pure functions, no server)."""

from assistant import prompts
from assistant.types import Answer, Citation, Mismatch, Verdict
from assistant.web.ui_render import answer_html, judge_html, scope_notice_html, verdict_html

TEXT = "大力发展数字经济。新建5G基站6000个以上,开发“5G+工业互联网”等示范场景。"
QUOTE = "新建5G基站6000个以上,开发“5G+工业互联网”等示范场景。"


def _citation() -> Citation:
    start = TEXT.index(QUOTE)
    return Citation(1, "shenyang:1", "shenyang", "2021年沈阳要重点做好十方面工作", "2021-02-06", "辽沈晚报",
                    ("建设数字沈阳、智造强市",), QUOTE, start, start + len(QUOTE))


def test_scope_notice_says_what_was_asked_and_what_was_found():
    mismatch = [{"kind": "year", "asked": "2024", "found": "2021"}]
    text = "文件中没有沈阳2024年的数字；《2021年沈阳要重点做好十方面工作》（2021-02-06）提出：" + QUOTE + "[1]"
    answer = Answer("沈阳2024年要新建多少个5G基站？", text, True, "extractive", (_citation(),),
                    {"scope_mismatch": mismatch, "judge": "rules"})
    out = answer_html(answer, {"shenyang": TEXT}.__getitem__)
    notice = scope_notice_html(mismatch)
    assert notice in out and out.index(notice) < out.index("文件中没有")
    assert "年份：问的是 2024，文件中是 2021" in notice and prompts.UI_SCOPE_NOTICE in notice
    assert prompts.UI_CLOSEST in out and "\n" not in out


def test_an_answer_without_a_notice_shows_none():
    answer = Answer("沈阳2021年要新建多少个5G基站？", QUOTE + "[1]", False, "extractive", (_citation(),), {})
    assert "scope-notice" not in answer_html(answer, {"shenyang": TEXT}.__getitem__)


def test_notice_values_are_escaped():
    assert "&lt;b&gt;" in scope_notice_html([{"kind": "place", "asked": "<b>", "found": "沈阳"}])


def test_verdict_shows_the_reason_and_the_judge():
    at = TEXT.index("新建")
    verdict = Verdict("沈阳2021年停止建设5G基站。", "contradicted", "肯定与否定相反：说法为“停止”，文件为肯定的表述。",
                      (Mismatch("polarity", "停止", "（肯定）", at, at + 2),), (_citation(),), {"judge": "rules"})
    out = verdict_html(verdict, {"shenyang": TEXT}.__getitem__)
    assert "肯定与否定相反" in out and judge_html("rules") in out
    assert "肯定/否定：说法为 停止" in out
    assert prompts.UI_JUDGE_LABELS["llm"] in judge_html("llm") and prompts.UI_JUDGE_LABELS["none"] in judge_html(None)
