"""Scope: what a question is about beyond its topic — the places, the years or periods, the indicator asked for.

``沈阳2024年要新建多少个5G基站？`` → places ``("沈阳",)``, periods ``(2024,)``, indicator ``5G基站``. English questions
name places in pinyin (``Shenyang``) and periods as ``2024`` or ``14th Five-Year Plan``; both map to the same values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.text.periods import Period, extract_periods
from assistant.text.places import GAZETTEER, extract_places
from assistant.text.quantities import fold

SCOPE_LEVELS = ("province", "city")  # the places a figure belongs to (regions and countries are topics)
# fmt: off
# English (pinyin or customary) names of the gazetteer's provinces and cities, lower case.
ENGLISH_PLACES = {
    "liaoning": "辽宁", "shenyang": "沈阳", "dalian": "大连", "anshan": "鞍山", "fushun": "抚顺", "benxi": "本溪",
    "dandong": "丹东", "jinzhou": "锦州", "yingkou": "营口", "fuxin": "阜新", "liaoyang": "辽阳", "panjin": "盘锦",
    "tieling": "铁岭", "chaoyang": "朝阳", "huludao": "葫芦岛", "beijing": "北京", "tianjin": "天津",
    "shanghai": "上海", "chongqing": "重庆", "hebei": "河北", "shanxi": "山西", "inner mongolia": "内蒙古",
    "jilin": "吉林", "heilongjiang": "黑龙江", "jiangsu": "江苏", "zhejiang": "浙江", "anhui": "安徽", "fujian": "福建",
    "jiangxi": "江西", "shandong": "山东", "henan": "河南", "hubei": "湖北", "hunan": "湖南", "guangdong": "广东",
    "guangxi": "广西", "hainan": "海南", "sichuan": "四川", "guizhou": "贵州", "yunnan": "云南", "tibet": "西藏",
    "xizang": "西藏", "shaanxi": "陕西", "gansu": "甘肃", "qinghai": "青海", "ningxia": "宁夏", "xinjiang": "新疆",
    "hong kong": "香港", "macau": "澳门", "macao": "澳门", "taiwan": "台湾", "harbin": "哈尔滨",
    "changchun": "长春", "shijiazhuang": "石家庄", "taiyuan": "太原", "hohhot": "呼和浩特", "nanjing": "南京",
    "hangzhou": "杭州", "hefei": "合肥", "fuzhou": "福州", "nanchang": "南昌", "jinan": "济南", "zhengzhou": "郑州",
    "wuhan": "武汉", "changsha": "长沙", "guangzhou": "广州", "nanning": "南宁", "haikou": "海口", "chengdu": "成都",
    "guiyang": "贵阳", "kunming": "昆明", "lhasa": "拉萨", "xi'an": "西安", "xian": "西安", "lanzhou": "兰州",
    "xining": "西宁", "yinchuan": "银川", "urumqi": "乌鲁木齐", "shenzhen": "深圳", "xiamen": "厦门",
    "ningbo": "宁波", "qingdao": "青岛", "suzhou": "苏州", "daqing": "大庆", "foshan": "佛山", "dongguan": "东莞",
}
# fmt: on
# The province of each city of the gazetteer: a province's policy covers its cities (not its figures).
_PROVINCE_CITIES = {
    "辽宁": "沈阳 大连 鞍山 抚顺 本溪 丹东 锦州 营口 阜新 辽阳 盘锦 铁岭 朝阳 葫芦岛",
    "吉林": "长春 四平 通化 辽源 松原 白城",
    "黑龙江": "哈尔滨 大庆 齐齐哈尔 鸡西 鹤岗 双鸭山 伊春 佳木斯 七台河 牡丹江 黑河 绥化",
    "河北": "石家庄 秦皇岛 唐山 承德 邯郸 邢台 保定 张家口 沧州 廊坊 衡水",
    "山西": "太原 阳泉 晋城 朔州 晋中 运城 忻州 临汾 吕梁",
    "内蒙古": "呼和浩特 赤峰 包头 乌海 通辽 鄂尔多斯 呼伦贝尔 巴彦淖尔 乌兰察布",
    "江苏": "南京 苏州 无锡 徐州 常州 南通 连云港 淮安 盐城 扬州 镇江 泰州 宿迁",
    "浙江": "杭州 宁波 温州 嘉兴 湖州 绍兴 金华 衢州 舟山 台州 丽水",
    "安徽": "合肥 芜湖 蚌埠 淮南 马鞍山 淮北 铜陵 安庆 滁州 阜阳 宿州 六安 亳州 池州 宣城",
    "福建": "福州 厦门 莆田 三明 泉州 漳州 南平 龙岩 宁德", "江西": "南昌 景德镇 萍乡 九江 新余 鹰潭 赣州 吉安 宜春 抚州 上饶",
    "山东": "济南 青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 临沂 德州 聊城 滨州 菏泽",
    "河南": "郑州 洛阳 平顶山 安阳 鹤壁 焦作 濮阳 许昌 漯河 三门峡 南阳 商丘 信阳 周口 驻马店",
    "湖北": "武汉 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 随州",
    "湖南": "长沙 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底",
    "广东": "广州 深圳 韶关 珠海 汕头 佛山 江门 湛江 茂名 肇庆 惠州 梅州 汕尾 阳江 清远 东莞 潮州 揭阳 云浮",
    "广西": "南宁 柳州 桂林 梧州 防城港 钦州 贵港 玉林 百色 贺州 河池 崇左", "海南": "海口 三亚 儋州",
    "四川": "成都 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安 达州 雅安 巴中 资阳",
    "贵州": "贵阳 六盘水 遵义 安顺 毕节 铜仁", "云南": "昆明 曲靖 玉溪 保山 昭通 丽江 临沧", "西藏": "拉萨",
    "陕西": "西安 宝鸡 咸阳 铜川 渭南 延安 汉中 榆林 商洛", "甘肃": "兰州 嘉峪关 金昌 天水 平凉 酒泉 庆阳 定西 陇南 张掖",
    "青海": "西宁", "宁夏": "银川 石嘴山 吴忠 固原 中卫", "新疆": "乌鲁木齐 克拉玛依 吐鲁番 哈密",
}
PROVINCE_OF = {city: province for province, cities in _PROVINCE_CITIES.items() for city in cities.split()}
# A name followed by a region word ("Shenyang metropolitan area", 沈阳都市圈 in Chinese) names a region, which is a
# topic, not the place a figure belongs to.
_ENGLISH_REGION_WORD = (r"(?!\s+(?:modern(?:ized)?\s+)?(?:metropolitan|metro\s+area|city\s+cluster|urban\s+agglomeration"
                        r"|economic\s+(?:zone|belt|circle)|coastal))")
_ENGLISH_PLACE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, ENGLISH_PLACES), key=len, reverse=True)) + r")\b"
                            + _ENGLISH_REGION_WORD, re.I)
# One unit of an indicator's name: a character, or a qualifier in parentheses, as statistical indicators write them
# (每千人口拥有执业（助理）医师数, 研究与试验发展（R&D）经费投入强度).
_INDICATOR_UNIT = r"(?:[\u4e00-\u9fffA-Za-z0-9]|[(（][\u4e00-\u9fffA-Za-z0-9&%]{1,8}[)）])"
# A count question's indicator after 多少 + measure word: matches "5G基站" in "新建多少个5G基站", "共有产权住房" in
# "新增多少套共有产权住房".
_AFTER_HOW_MANY = re.compile(
    r"(?:多少|几)(?:万|亿)?(?:个月|[个家户项座所名人条种次件处台辆艘架只张头套部本场支位门届块株列节亩吨元公里千米平方米年天])*"
    r"(?P<ind>" + _INDICATOR_UNIT + r"{2,14})")
# The indicator before a value question: matches "常住人口城镇化率" in "常住人口城镇化率的目标是多少".
_BEFORE_HOW_MUCH = re.compile(
    r"(?P<ind>" + _INDICATOR_UNIT + r"{2,20}?)(?:的(?:目标|比重|比例|规模|数量|总额|总量))?"
    r"(?:要|将|计划|力争|预计|能|可)?(?:是|为|达到?|提高到|提升到|增长|占|占到|稳定在|控制在|超过)?(?:多少|几)")
# Words around an indicator that are not part of it: verbs of planning before it, question tails after it.
_INDICATOR_TRIM = re.compile(
    r"^(?:(?:规划纲要|规划|纲要|文件|文章|报告|专栏)?(?:提出|要求|明确)|要|将|计划|力争|预计|新建|新增|建设|建成|培育|"
    r"改造|开行|整治|创建|实施|完成|累计|达到|打造|引进|发放|培训|新开工|开工|建|增加|提高到?|提升到?|的)+"
    r"|(?:是|有|呢|吗|啊|的?目标值?|的?预期|不少于|不低于|不超过|以上|以下|以内|保持在|稳定在|控制在|达到|发展到)+$")
# Where a question's indicator phrase ends: at a modal verb ("中欧班列要开行" → "中欧班列").
_INDICATOR_END = re.compile(r"(?<=..)(?<![纲重主需必只])(?:要|将|应)(?!求).*$")
_QUESTION_TAIL = re.compile(r"[?？!！。,，、;；~～\s].*$")


@dataclass(frozen=True)
class Scope:
    """The scope of a question: places (short simplified names), periods and the indicator asked for ("" if none)."""

    places: tuple[str, ...] = ()
    periods: tuple[Period, ...] = ()
    indicator: str = ""

    @property
    def empty(self) -> bool:
        """Whether the question names no place and no period."""
        return not self.places and not self.periods


def place_names(text: str) -> list[str]:
    """Short simplified names of the places in ``text``, Chinese or English, in order, without repeats.

    Example: ``遼寧省大連市`` → ``['辽宁', '大连']``; ``How many 5G base stations in Shenyang?`` → ``['沈阳']``.
    """
    names = [p.name_norm for p in extract_places(text)]
    names += [ENGLISH_PLACES[m.group(1).lower()] for m in _ENGLISH_PLACE.finditer(text)]
    return [n for n in dict.fromkeys(names) if n in GAZETTEER]


def indicator_of(question: str) -> str:
    """The indicator a figure question asks for, in normalized simplified form ("" when none is found).

    Places and periods are cut out first.

    Example: ``辽宁“十四五”期间要新增多少套共有产权住房？`` → ``共有产权住房``;
    ``辽宁2035年常住人口城镇化率的目标是多少？`` → ``常住人口城镇化率``.
    """
    folded = fold(question)
    chars = list(folded)
    for span in [(p.start, p.end) for p in extract_places(folded)] + [(p.start, p.end) for p in extract_periods(folded)]:
        chars[span[0] : span[1]] = " " * (span[1] - span[0])
    text = "".join(chars)
    text = re.sub(r"[“”\"'《》]", "", text)
    m = _AFTER_HOW_MANY.search(text.replace(" ", ""))
    if m:
        return _trim(m.group("ind"))
    for piece in re.split(r"\s+", text):
        m = _BEFORE_HOW_MUCH.search(piece)
        if m:
            return _trim(m.group("ind"))
    return ""


def _trim(phrase: str) -> str:
    phrase = _QUESTION_TAIL.sub("", phrase)
    for cut in (False, True):
        if cut:
            phrase = _INDICATOR_END.sub("", phrase)
        previous = None
        while previous != phrase:
            previous, phrase = phrase, _INDICATOR_TRIM.sub("", phrase)
    return phrase if len(phrase) >= 2 else ""


def question_scope(question: str) -> Scope:
    """Parse a question's scope: provinces and cities, periods, the indicator.

    Base years (``较2020年``) do not count: they are not the time asked about.

    Example: ``沈阳2024年要新建多少个5G基站？`` → ``Scope(('沈阳',), (Period(2024, 2024, …),), '5G基站')``.
    """
    periods = tuple(p for p in extract_periods(question) if p.role != "base")
    places = tuple(name for name in place_names(question) if GAZETTEER[name] in SCOPE_LEVELS)
    return Scope(places, periods, indicator_of(question))
