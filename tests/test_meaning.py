"""Meaning: negation, modality, direction and rumours, on real sentences of the seed and synthetic documents."""

import pytest

from assistant.answers.meaning import compare_meaning, rumour_of

CONTRADICTED = [
    ("辽宁“十四五”期间不再推进农村清洁取暖。", "推廣沼氣、天然氣等清潔能源,全面推進農村地區清潔取暖", "polarity"),
    ("辽宁规划提出到2025年继续保留城市落户限制。", "力爭到2025年基本取消城市落戶限制", "polarity"),
    ("2024年辽宁政府工作报告允许发生规模性返贫。", "提高脫貧攻堅質效,牢牢守住不發生規模性返貧底線", "modality"),
    ("辽宁规划允许建设高耗煤、能效水平较低的项目。", "嚴禁高耗煤、能效水平較低的項目建設", "modality"),
    ("辽宁规划坚持“房子是用来炒的”定位。", "堅持“房子是用來住的,不是用來炒的”定位", "polarity"),
    ("2024年政府工作报告提出法定职责可以不为。", "做到法無授權不可爲、法定職責必須爲", "modality"),
    ("辽宁规划提出收紧民营企业市场准入。", "推動“非禁即入”普遍落實,放寬民營企業市場準入", "direction"),
    ("辽宁规划提出万元地区生产总值用水量较2020年上升12%。", "萬元地區生產總值用水量較2020年下降12%", "direction"),
    ("沈阳2021年下调城乡低保标准。", "持续提高城乡低保、特困人员救助供养标准", "direction"),
    ("辽宁规划禁止利用屋顶、院落发展分布式光伏。", "鼓勵利用屋頂、院落等發展分布式光伏", "modality"),
    ("沈阳2021年停止农村人居环境整治提升行动。", "启动农村人居环境整治提升五年行动", "polarity"),
    # Stopping or putting off what the document starts or goes on with.
    ("辽宁2024年停办全省消费季活动。", "举办全省消费季活动,促进汽车、家电等大宗消费", "polarity"),
    ("沈阳2021年暂缓实施老旧小区改造。", "实施老旧小区改造200个以上", "polarity"),
    ("辽宁规划搁置沈白高铁建设。", "加快建设沈白高铁", "polarity"),
    # Curbing is the opposite of encouraging; a quote after the negation is part of what it negates.
    ("辽宁规划鼓励新建燃煤自备电厂。", "坚决遏制新建燃煤自备电厂", "modality"),
    ("各地不必按照“放管服”改革要求精简审批事项。", "各地要按照深化改革要求精简审批事项", "modality"),
    ("浙江民办义务教育学校招生可以提前组织考试选拔学生。", "全部实行电脑随机录取，不得提前组织考试、面试或变相选拔学生",
     "modality"),
    ("成都2023年一般性支出增加10%以上。", "坚持过紧日子，一般性支出压减10%以上", "direction"),
    # A bare 非 is part of a noun (非医疗费用, 非法集资): the 不得 / 严禁 before it still negates.
    ("杭州职工医保个人账户资金可以用于支付健身、美容费用。", "个人账户资金不得用于支付健身、美容等非医疗费用，不得套取现金。",
     "modality"),
    ("四川允许以养老服务为名进行集资。", "建立养老服务综合监管制度，严禁以养老服务为名进行非法集资。", "modality"),
    ("辽宁要求政府在履行审批职能时只踩刹车不踩油门。", "在履行審批、管理職能時,不能隻踩刹車(chē)不踩油門、光設路障不設路标",
     "modality"),
]
SUPPORTED = [
    ("辽宁坚决遏制新建燃煤自备电厂。", "坚决遏制新建燃煤自备电厂"),
    ("各地要按照“放管服”改革要求精简审批事项。", "各地要按照深化改革要求精简审批事项"),
    ("辽宁“十四五”规划提出全面推进农村地区清洁取暖。", "推廣沼氣、天然氣等清潔能源,全面推進農村地區清潔取暖"),
    ("辽宁规划明确不得建设高耗煤、能效水平较低的项目。", "嚴禁高耗煤、能效水平較低的項目建設"),
    ("辽宁规划坚持“房子是用来住的、不是用来炒的”定位。", "堅持“房子是用來住的,不是用來炒的”定位"),
    ("2024年政府工作报告提出做到法无授权不可为、法定职责必须为。", "做到法無授權不可爲、法定職責必須爲"),
    ("辽宁要求亿元国内生产总值生产安全事故死亡率累计降低33%。", "億元國內生產總值生產安全事故死亡率累計下降33%"),
    ("2024年辽宁要确保零就业家庭至少有一人实现就业。", "确保零就業家庭至少一人實現就業"),
    ("佛山老旧小区改造项目不涉及建筑主体结构变动的，不用办建设工程规划许可证。",
     "老旧小区改造项目不涉及建筑主体结构变动的，无需办理建设工程规划许可证"),
    ("沈阳要不断提高城乡低保标准。", "持续提高城乡低保、特困人员救助供养标准"),
    # The document negates something the claim does not say (用来炒的; 光设路障…, the list item after 、).
    ("辽宁坚持房子是用来住的定位。", "堅持“房子是用來住的,不是用來炒的”定位,因城施策、一城一策"),
    ("辽宁要求政府履行审批职能时不能只踩刹车不踩油门。", "在履行審批、管理職能時,不能隻踩刹車(chē)不踩油門、光設路障不設路标"),
]
RUMOUR_PARAGRAPH = "网传“今年年底前不用完，职工医保个人账户里的钱将全部清零”。经核实，该信息不实。"


@pytest.mark.parametrize("claim,sentence,kind", CONTRADICTED)
def test_contradictions_of_meaning(claim, sentence, kind):
    conflict = compare_meaning(claim, sentence)
    assert conflict is not None and conflict.kind == kind


@pytest.mark.parametrize("claim,sentence", SUPPORTED)
def test_rewordings_keep_their_meaning(claim, sentence):
    assert compare_meaning(claim, sentence) is None


def test_document_word_is_located_in_the_sentence():
    sentence = "萬元地區生產總值用水量較2020年下降12%"
    conflict = compare_meaning("辽宁规划提出万元地区生产总值用水量较2020年上升12%。", sentence)
    assert sentence[conflict.start : conflict.end] == "下降"


def test_a_rumour_the_document_calls_false():
    sentence = RUMOUR_PARAGRAPH.split("。")[0] + "。"
    assert rumour_of(sentence, RUMOUR_PARAGRAPH).startswith("今年年底前不用完")
    repeated = compare_meaning("成都职工医保个人账户余额年底前不用完将全部清零。", sentence, RUMOUR_PARAGRAPH)
    assert repeated is not None and repeated.kind == "false_statement"
    denied = compare_meaning("成都职工医保个人账户里的钱年底前不用完不会清零。", sentence, RUMOUR_PARAGRAPH)
    assert denied is None
    assert rumour_of(sentence, "网传“…”。") == ""  # a quotation that no one calls false is no rumour


@pytest.mark.parametrize("claim,sentence", [("", "全面推进"), ("推进", ""), ("完全无关的一句话", "全面推進農村地區清潔取暖")])
def test_edge_cases(claim, sentence):
    assert compare_meaning(claim, sentence) is None
