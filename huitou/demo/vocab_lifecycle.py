"""Word lists for the demo's follow-ups (跟进记录): what prospects want, what staff say and what comes of it.

Written the way a service advisor types into the app after a call: short,
concrete, about the car, the price and when the customer can come.
"""

from __future__ import annotations

# What the file came for (需求), whatever the source.
NEEDS = (
    "小保养到期，想问问价格",
    "大保养快到了，想比较几家",
    "刹车有异响，想检查一下",
    "空调不凉，想检修加氟",
    "轮胎磨得厉害，想换四条",
    "车身有划痕，想补漆",
    "想做全车镀晶",
    "想办一张洗车卡",
    "新能源车想做底盘和电池检测",
    "车险快到期，想了解续保",
    "年检快到了，想代办年检",
    "想贴隐形车衣",
    "发动机故障灯亮了",
    "电瓶亏电，早上打不着火",
    "方向盘跑偏，想做四轮定位",
    "刚买的二手车，想做个全面检测",
)
# What a file of this source came for, sometimes instead of the above.
NEEDS_BY_SOURCE = {
    "flyer": ("看到传单上的保养套餐，想了解一下", "传单上的洗车优惠还有吗"),
    "opening_promo": ("开业活动：想做9.9元精洗", "开业酬宾的保养套餐"),
    "gas_station": ("加油站送的免费检测券", "加油时拿的洗车券"),
    "event": ("车友会活动认识的，想做个保养", "活动抽中的免费四轮定位"),
    "referral": ("朋友介绍过来做保养", "同事推荐的，说这里价格实在"),
    "online": ("网上看到的镀晶套餐", "点评上看到的，想做小保养"),
    "competitor_switch": ("原来的店关门了，想换一家", "在别家做完不满意，想换个地方"),
    "dealer_partner": ("车商推荐的，刚买的车想做个全面检测", "过户后想做一次大保养"),
    "wechat": ("朋友圈看到的保养活动", "公众号上的洗车卡活动"),
}

# Before the first paid visit: (channel, what was said).
PROSPECT_CALLS = (
    "电话联系客户，了解车况和需求，报了保养套餐价格",
    "电话回访，客户说这周比较忙，周末可能有空",
    "电话邀请客户到店做免费检测",
    "打电话确认到店时间",
    "电话沟通报价，解释了原厂件和品牌件的差别",
)
PROSPECT_WECHAT = (
    "加了微信，发了同款车型的施工照片",
    "微信发送保养套餐报价单",
    "微信发了门店位置和营业时间",
    "微信提醒本周活动：工时费八折",
    "微信发了技师检测视频，说明需要更换的配件",
)
PROSPECT_IN_STORE = (
    "客户到店看了看，了解了价格，没有当场施工",
    "到店咨询，技师帮忙做了免费检测",
)
UNREACHED = (
    ("phone", "电话未接通，稍后再联系"),
    ("wechat", "微信消息未回复"),
    ("phone", "客户在开会，说晚点回电"),
)
PROSPECT_RESULTS = (
    "客户对价格比较满意，说周末过来",
    "客户在比较几家，觉得价格偏高",
    "客户说先考虑一下",
    "约好了到店时间",
    "客户想等活动再来",
    "客户说要和家里人商量一下",
)
PROSPECT_NEXT_STEPS = (
    "再次电话确认到店时间",
    "微信发送优惠券",
    "邀请到店免费检测",
    "周末前再跟进一次",
    "发送详细报价单",
)
# A prospect who went quiet: the last word on the file.
COLD_RESULTS = (
    "客户暂无需求，以后有需要再联系",
    "客户说车刚在别处保养过，明年再说",
    "客户说最近不用车，暂不考虑",
)
# Why a prospect is set to lost by hand (the stage change's reason).
GIVE_UP_REASONS = (
    "已在别家做了",
    "车已卖掉",
    "多次联系不上",
    "嫌远，不方便过来",
    "只是问问价格，没有意向",
)

# After a paid visit: customer service calls back (回访).
AFTERCARE = (
    ("phone", "保养后电话回访，询问车辆使用情况"),
    ("wechat", "微信回访：施工后效果是否满意"),
    ("phone", "回访：提醒客户下次保养里程"),
    ("wechat", "微信发送本次保养报告和下次保养建议"),
)
AFTERCARE_RESULTS = (
    "客户表示满意",
    "客户说刹车比以前好多了",
    "客户反映等待时间有点长，已致歉",
    "车况正常，无异常",
    "客户说下次还来",
)
REMINDERS = ("提醒下次保养", "提醒车险续保", "提醒年检", "提醒更换轮胎")

# A customer gone quiet (沉睡): the wake-up plan's call and message.
WAKE_UP_CALLS = (
    "电话问候，了解近况和用车情况",
    "电话问候，询问上次保养后车况，是否有不满意的地方",
)
WAKE_UP_CALL_RESULTS = (
    "客户说最近出差，回来再约",
    "客户已换车，新车在4S店保养",
    "车放在老家，很少开",
    "客户说在别家做了保养，价格便宜一些",
    "电话未接通",
    "客户说下个月过来",
)
WAKE_UP_MESSAGES = (
    "微信发送回店关怀优惠：保养工时费八折",
    "微信发送老客户专享洗车券",
)
WAKE_UP_MESSAGE_RESULTS = ("客户回复收到", "未回复", "客户说有空就过来")
