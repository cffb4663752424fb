"""Places: a small gazetteer of provinces, cities and regions, matched in either script with offsets."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from assistant.text.quantities import fold

# Names without 省/市; space-separated to keep the lists short.
LIAONING_CITIES = tuple("沈阳 大连 鞍山 抚顺 本溪 丹东 锦州 营口 阜新 辽阳 盘锦 铁岭 朝阳 葫芦岛".split())
PROVINCES = tuple(
    "北京 天津 上海 重庆 河北 山西 内蒙古 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 "
    "广西 海南 四川 贵州 云南 西藏 陕西 甘肃 青海 宁夏 新疆 香港 澳门 台湾".split()
)
OTHER_CITIES = tuple(
    "哈尔滨 长春 石家庄 太原 呼和浩特 南京 杭州 合肥 福州 南昌 济南 郑州 武汉 长沙 广州 南宁 海口 成都 贵阳 "
    "昆明 拉萨 西安 兰州 西宁 银川 乌鲁木齐 深圳 厦门 宁波 青岛 苏州 大庆 齐齐哈尔 四平 通化 秦皇岛 唐山 承德 "
    "赤峰".split()
)
# Prefecture-level cities of the other provinces (names that are also common words are left out: 大同, 长治, 安康,
# 开封, 日照, 来宾, 中山, 黄山, 白山, 白银, 武威, 新乡, 普洱, 北海, 河源, 吉林).
MORE_CITIES = tuple(
    "邯郸 邢台 保定 张家口 沧州 廊坊 衡水 阳泉 晋城 朔州 晋中 运城 忻州 临汾 吕梁 包头 乌海 通辽 鄂尔多斯 呼伦贝尔 "
    "巴彦淖尔 乌兰察布 辽源 松原 白城 鸡西 鹤岗 双鸭山 伊春 佳木斯 七台河 牡丹江 黑河 绥化 无锡 徐州 常州 南通 "
    "连云港 淮安 盐城 扬州 镇江 泰州 宿迁 温州 嘉兴 湖州 绍兴 金华 衢州 舟山 台州 丽水 芜湖 蚌埠 淮南 马鞍山 淮北 "
    "铜陵 安庆 滁州 阜阳 宿州 六安 亳州 池州 宣城 莆田 三明 泉州 漳州 南平 龙岩 宁德 景德镇 萍乡 九江 新余 鹰潭 "
    "赣州 吉安 宜春 抚州 上饶 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 临沂 德州 聊城 滨州 菏泽 洛阳 平顶山 安阳 "
    "鹤壁 焦作 濮阳 许昌 漯河 三门峡 南阳 商丘 信阳 周口 驻马店 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 "
    "随州 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底 韶关 珠海 汕头 佛山 江门 湛江 茂名 肇庆 "
    "惠州 梅州 汕尾 阳江 清远 东莞 潮州 揭阳 云浮 柳州 桂林 梧州 防城港 钦州 贵港 玉林 百色 贺州 河池 崇左 "
    "三亚 儋州 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安 达州 雅安 巴中 资阳 六盘水 遵义 "
    "安顺 毕节 铜仁 曲靖 玉溪 保山 昭通 丽江 临沧 宝鸡 咸阳 铜川 渭南 延安 汉中 榆林 商洛 嘉峪关 金昌 天水 平凉 "
    "酒泉 庆阳 定西 陇南 张掖 石嘴山 吴忠 固原 中卫 克拉玛依 吐鲁番 哈密".split()
)
REGIONS = tuple(
    "东北亚 东北 京津冀 长三角 珠三角 粤港澳大湾区 环渤海 长江经济带 黄河流域 辽东半岛 辽西北 辽西 辽南 "
    "沈阳都市圈 沈阳现代化都市圈 辽宁沿海经济带 辽宁沿海".split()
)
COUNTRIES = tuple("日本 韩国 朝鲜 俄罗斯 蒙古国 蒙古 美国 欧盟 德国".split())

# Canonical name → level; places compete for the same role only within a level.
GAZETTEER: dict[str, str] = {
    **{name: "country" for name in COUNTRIES},
    **{name: "city" for name in OTHER_CITIES},
    **{name: "city" for name in MORE_CITIES},
    **{name: "city" for name in LIAONING_CITIES},
    **{name: "province" for name in PROVINCES},
    **{name: "region" for name in REGIONS},
}
_SUFFIXES = "省|市|自治区|壮族自治区|回族自治区|维吾尔自治区|特别行政区|地区"

# Longest name first so 东北亚 wins over 东北 and 内蒙古 over 蒙古; an administrative suffix is kept in the span.
# Matches "辽宁省" in "辽宁省计划培育", "沈阳市" in "沈阳市新建", "东北亚" in "东北亚开放合作枢纽地".
_PLACE = re.compile("(?P<name>" + "|".join(sorted(GAZETTEER, key=len, reverse=True)) + f")(?P<suffix>{_SUFFIXES})?")
# Words where a name is not the place: 朝阳产业 (sunrise industry), 太原街 / 大连路 (streets).
_NOT_A_PLACE = re.compile(r"产业|行业|[路街]")


@dataclass(frozen=True)
class Place:
    """A place named in text: ``name_norm`` is the canonical simplified name, ``text`` is ``input[start:end]``."""

    name_norm: str
    text: str
    start: int
    end: int
    level: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)


def extract_places(text: str) -> list[Place]:
    """Find the gazetteer's places in ``text`` (either script and width), with offsets into it.

    Args:
        text: Chinese text.

    Returns:
        The places in text order; ``辽宁省`` and ``遼寧`` both have ``name_norm`` ``辽宁``.

    Example:
        ``遼寧省大連市`` → ``[Place("辽宁", "遼寧省", 0, 3, "province"), Place("大连", "大連市", 3, 6, "city")]``;
        ``朝阳产业`` → ``[]``.
    """
    folded = fold(text)
    places = []
    for match in _PLACE.finditer(folded):
        name, end = match.group("name"), match.end()
        if not match.group("suffix") and _NOT_A_PLACE.match(folded, end):
            continue
        places.append(Place(name, text[match.start() : end], match.start(), end, GAZETTEER[name]))
    return places
