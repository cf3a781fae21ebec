"""Word lists for the demo data: a repair shop in Hangzhou and its customers.

Weights are rough shares seen in the field (surname frequencies from the
2020 census, car brands from Chinese sales figures), good enough for data
that looks real on every page.
"""

from __future__ import annotations

from dataclasses import dataclass

# (surname, weight in 1/1000). Includes surnames read differently as a
# surname (曾 zeng, 单 shan, 解 xie, 仇 qiu, 查 zha, 翟 zhai, 覃 qin, 区 ou)
# and compound surnames, which the pinyin search must handle.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 71),
    ("李", 70),
    ("张", 66),
    ("刘", 54),
    ("陈", 46),
    ("杨", 31),
    ("黄", 24),
    ("赵", 21),
    ("吴", 20),
    ("周", 19),
    ("徐", 15),
    ("孙", 15),
    ("马", 14),
    ("朱", 13),
    ("胡", 13),
    ("郭", 12),
    ("何", 11),
    ("林", 10),
    ("高", 10),
    ("罗", 9),
    ("郑", 9),
    ("梁", 8),
    ("谢", 7),
    ("宋", 6),
    ("唐", 6),
    ("许", 6),
    ("韩", 5),
    ("邓", 5),
    ("冯", 5),
    ("曹", 5),
    ("彭", 5),
    ("曾", 5),
    ("肖", 5),
    ("田", 4),
    ("董", 4),
    ("潘", 4),
    ("袁", 4),
    ("蔡", 4),
    ("蒋", 4),
    ("余", 4),
    ("于", 4),
    ("杜", 4),
    ("叶", 4),
    ("程", 3),
    ("魏", 3),
    ("苏", 3),
    ("吕", 3),
    ("丁", 3),
    ("任", 3),
    ("卢", 3),
    ("姚", 3),
    ("沈", 3),
    ("钟", 3),
    ("姜", 3),
    ("崔", 3),
    ("谭", 3),
    ("陆", 3),
    ("范", 2),
    ("汪", 2),
    ("廖", 2),
    ("石", 2),
    ("金", 2),
    ("韦", 2),
    ("贾", 2),
    ("夏", 2),
    ("付", 2),
    ("方", 2),
    ("邹", 2),
    ("熊", 2),
    ("白", 2),
    ("孟", 2),
    ("秦", 2),
    ("邱", 2),
    ("侯", 2),
    ("江", 2),
    ("尹", 2),
    ("薛", 2),
    ("闫", 2),
    ("段", 2),
    ("雷", 2),
    ("龙", 1),
    ("黎", 1),
    ("史", 1),
    ("陶", 1),
    ("贺", 1),
    ("毛", 1),
    ("郝", 1),
    ("顾", 1),
    ("龚", 1),
    ("邵", 1),
    ("万", 1),
    ("覃", 1),
    ("武", 1),
    ("钱", 1),
    ("戴", 1),
    ("严", 1),
    ("莫", 1),
    ("孔", 1),
    ("向", 1),
    ("常", 1),
    ("汤", 1),
    ("单", 0.5),
    ("翟", 0.5),
    ("华", 0.5),
    ("宁", 0.5),
    ("解", 0.3),
    ("查", 0.3),
    ("仇", 0.2),
    ("区", 0.2),
    ("欧阳", 1),
    ("司马", 0.3),
    ("上官", 0.2),
    ("诸葛", 0.1),
)

GIVEN_MALE = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭龙林建国志海峰亮东文博晨阳昊轩睿泽航嘉豪毅诚坤宏德"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲桂英秀兰梅琳婷雪倩颖欣悦怡佳晶露瑶萍红玉春月慧琪璐思雨涵诗梦"


@dataclass(frozen=True)
class CarModel:
    brand: str
    model: str
    wmi: str  # world manufacturer identifier: the first three VIN characters
    first_year: int
    weight: float
    energy: str = ""  # "" petrol or diesel; "D" battery electric; "F" plug-in or range-extended hybrid
    check_digit: bool = True  # False: imported European car whose VIN has no check digit


CAR_MODELS: tuple[CarModel, ...] = (
    CarModel("大众", "朗逸", "LSV", 2008, 60),
    CarModel("大众", "帕萨特", "LSV", 2011, 25),
    CarModel("大众", "途观L", "LSV", 2017, 20),
    CarModel("大众", "速腾", "LFV", 2006, 35),
    CarModel("大众", "迈腾", "LFV", 2007, 25),
    CarModel("大众", "宝来", "LFV", 2008, 25),
    CarModel("大众", "探岳", "LFV", 2018, 12),
    CarModel("丰田", "卡罗拉", "LFM", 2007, 35),
    CarModel("丰田", "RAV4荣放", "LFM", 2009, 18),
    CarModel("丰田", "亚洲龙", "LFM", 2019, 8),
    CarModel("丰田", "凯美瑞", "LVG", 2006, 28),
    CarModel("丰田", "汉兰达", "LVG", 2009, 12),
    CarModel("丰田", "雷凌", "LVG", 2014, 14),
    CarModel("本田", "雅阁", "LHG", 2008, 28),
    CarModel("本田", "飞度", "LHG", 2008, 10),
    CarModel("本田", "思域", "LVH", 2006, 20),
    CarModel("本田", "CR-V", "LVH", 2007, 25),
    CarModel("日产", "轩逸", "LGB", 2006, 50),
    CarModel("日产", "天籁", "LGB", 2008, 10),
    CarModel("日产", "奇骏", "LGB", 2008, 10),
    CarModel("别克", "英朗", "LSG", 2010, 30),
    CarModel("别克", "君威", "LSG", 2009, 10),
    CarModel("别克", "GL8", "LSG", 2006, 18),
    CarModel("别克", "昂科威", "LSG", 2014, 10),
    CarModel("雪佛兰", "科鲁兹", "LSG", 2009, 8),
    CarModel("吉利", "帝豪", "L6T", 2010, 25),
    CarModel("吉利", "星越L", "L6T", 2021, 12),
    CarModel("吉利", "博越", "L6T", 2016, 15),
    CarModel("长安", "CS75 PLUS", "LS5", 2019, 18),
    CarModel("长安", "逸动", "LS5", 2012, 12),
    CarModel("哈弗", "H6", "LGW", 2011, 30),
    CarModel("哈弗", "大狗", "LGW", 2020, 6),
    CarModel("宝马", "3系", "LBV", 2009, 18),
    CarModel("宝马", "5系", "LBV", 2010, 12),
    CarModel("宝马", "X3", "LBV", 2018, 8),
    CarModel("宝马", "X5", "WBA", 2008, 2, check_digit=False),
    CarModel("奔驰", "C级", "LE4", 2008, 16),
    CarModel("奔驰", "E级", "LE4", 2010, 10),
    CarModel("奔驰", "GLC", "LE4", 2016, 8),
    CarModel("奔驰", "S级", "WDD", 2008, 1.5, check_digit=False),
    CarModel("奥迪", "A4L", "LFV", 2009, 16),
    CarModel("奥迪", "A6L", "LFV", 2006, 12),
    CarModel("奥迪", "Q5L", "LFV", 2018, 8),
    CarModel("保时捷", "Macan", "WP1", 2014, 1, check_digit=False),
    CarModel("马自达", "CX-5", "LVR", 2013, 8),
    CarModel("福特", "福克斯", "LVS", 2006, 10),
    CarModel("五菱", "宏光", "LZW", 2010, 10),
    CarModel("传祺", "GS4", "LMG", 2015, 6),
    CarModel("雷克萨斯", "RX", "JTJ", 2008, 2),
    # New-energy vehicles: green 8-character plates.
    CarModel("比亚迪", "秦PLUS DM-i", "LGX", 2021, 30, "F"),
    CarModel("比亚迪", "宋PLUS DM-i", "LGX", 2021, 22, "F"),
    CarModel("比亚迪", "汉EV", "LGX", 2020, 12, "D"),
    CarModel("比亚迪", "海豚", "LGX", 2021, 12, "D"),
    CarModel("比亚迪", "元PLUS", "LGX", 2022, 10, "D"),
    CarModel("特斯拉", "Model 3", "LRW", 2020, 16, "D"),
    CarModel("特斯拉", "Model Y", "LRW", 2021, 20, "D"),
    CarModel("理想", "L7", "LW4", 2023, 8, "F"),
    CarModel("理想", "ONE", "LW4", 2019, 4, "F"),
    CarModel("蔚来", "ES6", "LJ1", 2019, 5, "D"),
    CarModel("小鹏", "P7", "LMV", 2020, 5, "D"),
    CarModel("五菱", "宏光MINI EV", "LZW", 2020, 12, "D"),
    CarModel("埃安", "AION S", "LMG", 2019, 8, "D"),
    CarModel("问界", "M7", "LM8", 2022, 5, "F"),
    CarModel("大众", "ID.4 CROZZ", "LFV", 2021, 4, "D"),
)

COLOURS: tuple[tuple[str, float], ...] = (
    ("白色", 36),
    ("黑色", 20),
    ("银色", 11),
    ("灰色", 12),
    ("蓝色", 8),
    ("红色", 5),
    ("珍珠白", 4),
    ("棕色", 2),
    ("绿色", 2),
)

# Plates: the shop is in Hangzhou (浙A); cars from the rest of Zhejiang and
# from the neighbouring provinces come in too. (prefix, weight)
PLATE_PREFIXES: tuple[tuple[str, float], ...] = (
    ("浙A", 540),
    ("浙B", 25),
    ("浙C", 25),
    ("浙D", 30),
    ("浙E", 25),
    ("浙F", 25),
    ("浙G", 25),
    ("浙H", 12),
    ("浙J", 15),
    ("浙K", 10),
    ("浙L", 5),
    ("沪A", 20),
    ("沪B", 10),
    ("苏A", 12),
    ("苏B", 8),
    ("苏E", 12),
    ("皖A", 15),
    ("皖B", 5),
    ("赣A", 10),
    ("闽A", 8),
    ("闽D", 5),
    ("粤A", 8),
    ("粤B", 10),
    ("京A", 6),
    ("京N", 4),
    ("鄂A", 6),
    ("川A", 6),
    ("豫A", 6),
    ("鲁A", 4),
    ("鲁B", 4),
    ("湘A", 5),
    ("冀A", 3),
    ("黑A", 2),
    ("辽B", 2),
    ("贵A", 2),
    ("云A", 2),
    ("陕A", 3),
    ("渝A", 4),
    ("津A", 2),
    ("桂A", 2),
    ("琼A", 1),
    ("晋A", 1),
    ("蒙A", 1),
    ("吉A", 1),
    ("甘A", 1),
    ("新A", 1),
)

# Mobile number prefixes of the three carriers, weighted by how often they are seen.
MOBILE_PREFIXES: tuple[tuple[str, float], ...] = (
    *((str(p), 10) for p in range(130, 140)),
    *((str(p), 8) for p in (150, 151, 152, 153, 155, 156, 157, 158, 159)),
    *((str(p), 9) for p in range(180, 190)),
    *((str(p), 3) for p in (166, 173, 175, 176, 177, 178, 191, 198, 199)),
)

CITY = "杭州市"
DISTRICTS = ("西湖区", "上城区", "拱墅区", "滨江区", "萧山区", "余杭区", "临平区", "钱塘区")
ROADS = (
    "文三路",
    "文一西路",
    "莫干山路",
    "延安路",
    "凤起路",
    "庆春路",
    "江南大道",
    "滨盛路",
    "天目山路",
    "古墩路",
    "余杭塘路",
    "市心中路",
    "金城路",
    "星光大道",
    "秋涛路",
    "德胜路",
)
COMPOUNDS = (
    "金色家园",
    "翠苑一区",
    "阳光小区",
    "桂花城",
    "良渚文化村",
    "金色海岸",
    "锦绣江南",
    "东方郡",
    "星洲花园",
    "和家园",
    "九堡家苑",
    "朝晖七区",
)
EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("qq.com", 50),
    ("163.com", 25),
    ("126.com", 8),
    ("139.com", 6),
    ("sina.com", 4),
    ("outlook.com", 4),
    ("foxmail.com", 3),
)

OCCUPATIONS = (
    "中学教师",
    "医院护士",
    "外科医生",
    "软件工程师，在滨江上班",
    "个体户，开服装店",
    "网约车司机",
    "出租车司机",
    "公务员",
    "销售经理",
    "公司财务",
    "建筑工程师",
    "律师",
    "餐馆老板",
    "物流公司老板",
    "电商运营",
    "已退休",
    "银行职员",
    "装修公司老板",
    "外贸业务员",
    "大学老师",
)
FAMILIES = (
    "已婚，一儿一女",
    "已婚，女儿上小学",
    "已婚，儿子读初中",
    "单身",
    "已婚，孩子在读大学",
    "三代同堂，周末接送老人",
    "已婚，孩子刚出生",
    "离异，带一个孩子",
    "新婚",
)
PERSONALITIES = (
    "爽快，不爱讨价还价",
    "细心，爱问细节",
    "急性子，怕等",
    "话不多，信得过就长期来",
    "好面子，喜欢被重视",
    "随和，好沟通",
    "比较谨慎，要看报价单",
)
HABITS = (
    "只认原厂件",
    "看重性价比",
    "喜欢储值卡优惠",
    "常在周末到店",
    "每次都要发票",
    "保养按公里数来",
    "喜欢套餐卡",
    "习惯提前预约",
)
HOBBIES = ("钓鱼", "自驾游", "羽毛球", "摄影", "跑步", "喝茶", "打麻将", "露营", "篮球", "登山", "健身", "书法")
LIFESTYLES = (
    "经常出差",
    "每天通勤约40公里",
    "周末带孩子出游",
    "全职跑网约车",
    "常跑长途",
    "主要在市区短途",
    "节假日回老家",
)
VALUES = ("诚信第一", "重视行车安全", "注重环保", "时间比钱重要", "信任熟人推荐")
PREFERRED_TIMES = ("工作日晚上7点后", "周末上午", "中午12点到1点", "随时可以", "工作日白天", "下午3点以后")
NOTES = (
    "上次保养时建议更换刹车片，客户未做，下次到店提醒",
    "轮胎磨损较重，建议三个月内更换",
    "对上次洗车效果很满意",
    "希望保养时提前电话报价",
    "车辆有小刮擦，考虑做漆面修复",
    "介绍过朋友来店",
    "喜欢找李顾问接待",
    "雨刮片老化，已建议更换",
)

TAG_SPREADER = "传播型"
TAG_VIP = "VIP"
TAG_PRICE = "价格敏感"
TAG_NEV = "新能源车主"
TAG_WASH = "爱洗车"
TAG_ORIGINAL_PARTS = "原厂件偏好"
TAG_FLEET = "车队客户"
TAG_RIDE_HAILING = "网约车"
TAG_COMPLAINED = "投诉过"
TAG_FEMALE_DRIVER = "女车主"

CONSENT_PURPOSE = "保养提醒、保险和年检到期提醒、会员活动通知"
