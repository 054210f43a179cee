"""Chinese names for synthetic schools: counties, school types, majors, competitions.

Plausible, not real: a generated school is ``<county><type>`` of a made-up mix of Jiangxi
counties and school types, so names look like the schools a bureau holds.
"""

from __future__ import annotations

CITY = "赣州市"
PROVINCE = "江西省"
COUNTIES = (
    "瑞金市",
    "于都县",
    "兴国县",
    "宁都县",
    "石城县",
    "寻乌县",
    "安远县",
    "信丰县",
    "大余县",
    "上犹县",
    "崇义县",
    "龙南市",
    "定南县",
    "全南县",
    "赣县区",
    "南康区",
    "章贡区",
    "会昌县",
)
TYPES = (
    ("中等专业学校", "全日制公办中等专业学校"),
    ("职业技术学校", "全日制公办职业技术学校"),
    ("职业中等专业学校", "全日制公办中等专业学校"),
    ("理工中等专业学校", "全日制民办中等专业学校"),
    ("卫生职业学校", "全日制公办中等职业学校"),
)
MAJORS = (
    "幼儿保育",
    "电子商务",
    "计算机应用",
    "计算机网络技术",
    "数控技术应用",
    "汽车运用与维修",
    "新能源汽车制造与检测",
    "旅游服务与管理",
    "高星级饭店运营与管理",
    "工业机器人技术应用",
    "无人机操控与维护",
    "会计事务",
    "护理",
    "中餐烹饪",
    "服装设计与工艺",
    "电子技术应用",
    "机电技术应用",
    "现代农艺技术",
    "数字媒体技术应用",
    "物流服务与管理",
)
COMPETITIONS = (
    ("全国职业院校技能大赛", "国家级"),
    ("江西省职业院校技能大赛", "省级"),
    ("赣州市中等职业学校技能大赛", "市级"),
)
EVENTS = ("电子商务运营", "网络布线", "数控车加工", "汽车维修", "婴幼儿保育", "中餐烹饪")
PRIZES = ("一等奖", "二等奖", "三等奖")
