"""Asks: what kind of answer a question asks for, and where a sentence holds one (real corpus sentences)."""

import pytest

from assistant.answers.asks import Span, answer_spans, asked_for, canonical_unit, slot_window
from assistant.answers.evidence import analyze, answer_fit, enumerated_items
from assistant.text.script import normalize


@pytest.mark.parametrize(
    "question,asks,unit",
    [
        ("", "other", ""),
        ("沈阳2021年要新建多少个5G基站？", "figure", "个"),
        ("日落大道总长多少公里？", "figure", "km"),  # the unit as extract() gives it
        ("成都“三支一扶”项目的服务期是几年？", "figure", "年"),
        ("广东2023年职工医保参保人数比上年增长了百分之几？", "figure", ""),
        ("苏锦梁在什么时间返回香港？", "when", ""),
        ("喀山在哪一个世纪成为喀山公国的中心？", "when", ""),  # 在哪 asks a century here, not a place
        ("沈阳2021年建设的人工智能产业园位于哪个区？", "where", ""),
        ("马来语在哪一种语言中被译作“巫来油”？", "other", ""),  # 在哪一种 asks for a kind, not a place
        ("沈北新区医疗集团要建设的“五个中心”具体是哪五个？", "names", ""),
        ("How many 5G base stations will Shenyang build?", "figure", ""),
    ],
)
def test_what_a_question_asks_for(question, asks, unit):
    asked = asked_for(normalize(question))
    assert (asked.asks, asked.unit) == (asks, unit)


def test_a_figure_the_question_states_does_not_answer_it():
    # 140万亩 is in the question: only another figure in 亩 answers "how much of it was planted".
    question = analyze("2024年辽宁营造林140万亩中人工造林有多少亩？")
    assert question.asked.stated == ((1_400_000.0, "亩"),)
    assert answer_fit(question, "持續打好科爾沁沙地殲滅戰,營造林140萬畝。", in_note=False) == 0.0
    employed = analyze("沈阳2021年新增城镇就业9万人中高校毕业生有多少？")
    assert answer_fit(employed, "突出抓好保就业。新增城镇就业9万人以上。", in_note=False) == 0.0
    assert answer_fit(analyze("沈阳2021年新增城镇就业多少人？"), "新增城镇就业9万人以上。", in_note=False) == 1.0


@pytest.mark.parametrize(
    "question,sentence,fit",
    [
        # A duration in 年 answers 几年; a count of people does not.
        ("成都“三支一扶”项目的服务期是几年？", "招募高校毕业生1200人，服务期满考核合格的，可按规定享受专项招聘等政策。", 0.0),
        ("成都“三支一扶”项目的服务期是几年？", "服务期为2年。", 1.0),
        # 100 specialties asked by name: a list of three kinds is no list of their names.
        ("2024年遼寧新建的100個臨床重點專科分別是哪些科室？", "新建省級、市域、縣域臨床重點專科100個。", 0.0),
        # Five centres asked: three items joined by 、 in one clause are not five names.
        ("沈北新区医疗集团要建设的“五个中心”具体是哪五个？",
         "沈北新区将再用两年时间,组建完成沈北新区医疗集团、搭建两大平台、建设“五个中心”,累计投入1.9亿元。", 0.0),
        ("辐射可分为哪两类？", "辐射分为游离辐射和非游离辐射。", 1.0),
        ("農田灌溉水有效利用係數要達到多少？", "農田灌溉水有效利用系數達到0.593。", 1.0),  # a ratio, not a bare code
        ("王江泾镇内有多少人口？", "人口8.57万。", 0.5),  # a plain number with 万 may count people
        ("日落大道总长多少公里？", "日落大道是美国洛杉矶的一条道路，长约35公里。", 1.0),
        ("报德国在哪一年被新罗吞并？", "683年，新罗神文王因担心叛乱将报德国吞并。", 1.0),
        ("赵与莒在什么时候被选入宫内？", "故于嘉定十四年将赵与莒选入宫内。", 1.0),
        ("塔乌鲁火山坐落于什么地方？", "是一座活跃的复式火山，坐落在巴布亚新几内亚东新不列颠省拉包尔附近。", 1.0),
    ],
)
def test_answer_type_fit(question, sentence, fit):
    assert answer_fit(analyze(question), sentence, in_note=False) == fit


@pytest.mark.parametrize(
    "question,sentence,fit",
    [
        # Each name ends in the noun asked (海, 医院): two seas joined by 和 are two names; two programmes are no hospitals.
        ("文章說遼寧擁有哪兩個海？", "辽宁濒临黄海和渤海。", 1.0),
        ("杭州2024年新增的2家三级医院是哪两家？", "推進城市醫療集團和縣域醫共體建設，新增三級醫院2家。", 0.0),
        ("成都2023年新建的3个区域医疗中心分别在哪些区？", "新建区域医疗中心3个，每个区（市）县至少建成1家县级医院。", 0.0),
    ],
)
def test_names_end_in_the_noun_asked(question, sentence, fit):
    assert answer_fit(analyze(question), sentence, in_note=False) == fit


def test_official_terms_cover_an_everyday_word():
    from assistant.answers.evidence import Coverage, idf_table

    sentence = normalize("到2025年,集成電路產業營業收入超800億元,規上企業不少于60家。")
    cover = Coverage(idf_table([sentence, normalize("做大做強集成電路裝備和關鍵零部件等優勢產業。"), "芯片"]))
    question = analyze("辽宁的芯片产业到2025年要做到多大规模？")
    plain, translated = question.topic, question.translated(["集成电路"])
    assert translated.extra == {"集成", "成电", "电路"} and translated.topic == plain
    assert cover(plain, sentence, translated.extra) > cover(plain, sentence)


def test_answer_spans_point_at_the_answer():
    sentence = "到2025年,集成電路產業營業收入超800億元,規上企業不少于60家。"
    spans = answer_spans(asked_for(normalize("辽宁集成电路规上企业要达到多少家？")), sentence)
    assert [sentence[s.start : s.end] for s in spans] == ["60家"]
    assert slot_window(sentence, spans[0]) == "集成電路產業營業收入超800億元,規上企業不少于60家"
    assert slot_window(sentence, Span(0, len(sentence), 1.0)) == sentence


def test_a_table_note_states_no_figure():
    asked = asked_for(normalize("辽宁2025年一般公共预算收入增长多少？"))
    assert answer_spans(asked, "注:④一般公共預算收入含稅收占比5%。") == []


@pytest.mark.parametrize("unit,canonical", [("公里", "km"), ("户", "户"), ("亩", "亩"), ("元", "元"), ("", "")])
def test_canonical_unit(unit, canonical):
    assert canonical_unit(unit) == canonical


def test_a_numbered_run_of_sentences_answers_a_names_question():
    # Reports list items one per sentence (一是…。二是…。): together they name what no single sentence lists.
    asked = asked_for(normalize("沈阳今年要打造哪几类城市？"))
    text = "一是打造创新城市，推进科技成果转化。二是打造宜居城市。三是推进改革。"
    assert enumerated_items(asked, text, 100) == {100, 118}  # the two numbered sentences that name 城市
    assert enumerated_items(asked, "一是打造创新城市。另外推进改革。") == set()  # one item is no list
    assert enumerated_items(asked_for(normalize("沈阳今年要打造哪四类城市？")), text) == set()  # fewer than asked
    assert enumerated_items(asked_for(normalize("沈阳今年要新建多少个5G基站？")), text) == set()  # not a names question


def test_the_sentences_of_a_numbered_run_fit_the_question():
    from assistant.answers.evidence import Coverage, idf_table, score_sentences
    from assistant.types import Chunk, Hit

    text = "一是打造创新城市，推进科技成果转化。二是打造宜居城市。三是推进改革。"
    chunk = Chunk("d:1", "d", "沈阳工作", ("城市建设",), text, normalize(text), 0, len(text))
    question = analyze("沈阳今年要打造哪几类城市？")
    scored = score_sentences(question, [Hit(chunk, 1.0, 1)], None, Coverage(idf_table([chunk.text_norm])))
    assert {s.sentence.text: s.fit for s in scored} == {"一是打造创新城市，推进科技成果转化。": 1.0, "二是打造宜居城市。": 1.0,
                                                        "三是推进改革。": 0.0}
