"""Planted documents for the filter tests: natural prose in English and Chinese, and the junk each rule targets.

Written for these tests (no third-party text). The good documents read like ordinary web articles; each junk
document imitates one kind of page the heuristics exist to remove.
"""

GOOD_EN = """The old river town of Alderbrook sits where two valleys meet, and for most of its history it lived \
from the water. Boats carried timber and wool down to the coast, and the mills along the bank turned the current into \
flour and cloth.

When the railway arrived in the 1870s, the river trade faded within a generation. Many of the warehouses stood \
empty for decades, and the town's population fell by almost a third.

Today the same buildings hold a library, a small museum and a market that opens every Saturday morning. \
Visitors come for the walking paths that follow the old towpath, and local guides explain how the locks were \
built by hand.

The council has spent the last ten years repairing the stone bridge and planting trees along the water. \
Residents say the town feels busier than it has in a long time, although some worry that rising rents will push \
young families out.

If you plan a visit, the museum is free on the first Sunday of each month. The bakery near the bridge is known \
for its apple cake, and it usually sells out before noon."""

GOOD_EN_2 = """Baking bread at home takes patience more than skill. Flour, water, salt and yeast are all you need, but \
the dough has to rest long enough for the gluten to develop and for the yeast to produce gas.

Most beginners add too much flour because the dough feels sticky. A wetter dough is harder to handle, yet it \
gives a lighter crumb and a crisper crust. Wet hands and a plastic scraper make the work much easier.

The first rise can take two hours in a cool kitchen. You can tell that the dough is ready when it has doubled in \
size and a gentle poke leaves a dent that springs back slowly.

Shape the loaf with as little force as possible, let it rise again, and bake it in a very hot oven. A tray of \
water on the lowest shelf keeps the crust soft for the first minutes, so that the bread can expand before it \
sets."""

GOOD_ZH = """城市公园是市民休闲的重要场所。每天清晨，很多老人在湖边打太极拳，年轻人则沿着林荫道跑步。
这个公园建于上世纪八十年代，当时周围还是一片农田。随着城市不断扩张，公园逐渐被高楼包围，却一直保留着原来的湖泊和树林。
去年，市政府对公园进行了改造。工人们修复了破损的步道，增加了儿童游乐设施，还在湖的东岸种植了上千株樱花。
春天的时候，樱花盛开，吸引了大量游客前来拍照。为了保护花木，管理处在高峰时段限制了入园人数。
有些居民认为改造后的公园更加漂亮，也有人担心游客太多会影响周边的交通。管理部门表示，将根据大家的意见继续完善管理措施。"""

GOOD_ZH_2 = """喝茶在中国已有几千年的历史。最早的时候，人们把茶叶当作药材，后来才慢慢变成日常的饮品。
不同地区的人喜欢不同的茶。南方人常喝绿茶和乌龙茶，北方人则更喜欢花茶。云南的普洱茶因为可以长期存放，近年来受到很多收藏者的关注。
泡茶的方法也很有讲究。水温太高会把嫩叶烫坏，水温太低又泡不出茶的香味。一般来说，绿茶适合用八十度左右的水，红茶和黑茶则可以用刚烧开的水。
对许多家庭来说，喝茶不仅是为了解渴，更是一种招待客人的方式。朋友来访的时候，主人会先泡一壶好茶，大家边喝边聊，气氛就会变得轻松起来。"""

# Gopher repetition: the same keywords over and over (SEO spam).
KEYWORD_SPAM_EN = " ".join(["cheap shoes online best cheap shoes sale"] * 40) + "."
KEYWORD_SPAM_ZH = "，".join(["便宜手机 手机批发 便宜手机"] * 40) + "。"

# Gopher repetition: one line repeated (a page of identical listings).
DUPLICATE_LINES_EN = "\n".join(
    ["Call now for a free quote on roof repairs in your area today."] * 12
    + ["Our team has worked on houses in the region for twenty years and we answer every message."] * 3
)
DUPLICATE_LINES_ZH = "\n".join(
    [*["欢迎致电咨询本公司的各类办公家具产品，我们提供免费送货和安装服务。"] * 12, GOOD_ZH.splitlines()[0]]
)

# Gopher quality: word salad without a single stopword.
WORD_SALAD_EN = (
    "Purple keyboard mountain banana quickly violin elephant window seventeen carpet radio galaxy pencil "
    "orange thunder bicycle lantern forest silver monkey candle river dragon pillow marble tiger ocean "
    "compass garden rocket velvet mirror castle planet feather button crystal meadow falcon saddle harbor "
    "copper walnut glacier trumpet canyon lemon anchor blanket rabbit comet pebble island jacket."
)
WORD_SALAD_ZH = (
    "手机 电脑 平板 耳机 充电器 数据线 键盘 鼠标 显示器 音箱 "
    "路由器 摄像头 打印机 硬盘 内存条 显卡 主板 电源 机箱 散热器 "
    "手表 相机 镜头 三脚架 麦克风 投影仪 扫描仪 墨盒 纸张 文件夹 订书机 剪刀 胶带 笔记本 圆珠笔 铅笔 橡皮 尺子 计算器 "
    "书包 水杯 雨伞 钥匙扣 钱包 眼镜 帽子 围巾 手套 袜子 鞋子 衬衫 裤子 外套 毛衣"
)

# Gopher quality and FineWeb: a navigation menu, one short item per line.
MENU_EN = "\n".join(
    ["Home", "About us", "Products", "Services", "Blog", "Careers", "Contact", "Login", "Register", "Cart",
     "Privacy", "Sitemap"]
)
MENU_ZH = "\n".join(
    ["首页", "关于我们", "产品中心", "新闻动态", "客户案例", "人才招聘", "联系我们", "网站地图", "登录", "注册"]
)

# Gopher quality: almost every line is a bullet.
BULLETS_EN = "\n".join(
    f"- Item number {index} in the list of spare parts for the kitchen mixer model we sell" for index in range(30)
)

# Gopher quality: lines that trail off with an ellipsis (teasers of truncated articles).
ELLIPSIS_LINES_EN = "\n".join(
    f"Read the full story about the local election results and what they mean for {topic}..."
    for topic in ("schools", "roads", "taxes", "housing", "parks", "hospitals", "police", "libraries")
)

# Gopher quality: hashtags instead of words.
HASHTAGS_EN = (
    " ".join(f"#travel #photo{index} #sunset #beach #love #instagood" for index in range(20)) + " and the sea."
)

# Gopher quality: numbers rather than words (a price table).
NUMBERS_EN = "\n".join(
    f"Model {index} 2019 2020 2021 1999.00 2450.50 1500 3000 4500 12000 45.60 78.90 and the total."
    for index in range(1, 25)
)

# C4: placeholder text.
LOREM_IPSUM = GOOD_EN + "\n\nLorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor."

# C4: source code with curly brackets.
JAVASCRIPT_CODE = GOOD_EN + """

function track(event) { window.dataLayer.push({event: event, time: Date.now()}); return true; }
var config = { debug: false, retries: 3 };"""

# C4: a line asking for JavaScript, and a cookie notice, inside an otherwise good page.
JAVASCRIPT_NOTICE = GOOD_EN + """
Please enable JavaScript in your browser to see the comments on this article.
This website uses cookies to improve your experience, as described in our privacy policy."""

# FineWeb: lines without any terminal punctuation (a keyword listing), long enough not to be "short lines".
UNPUNCTUATED_EN = "\n".join(
    f"Best deals on {item} with free shipping and easy returns for every customer in {place}"
    for item, place in zip(
        ("laptops", "phones", "cameras", "printers", "monitors", "speakers", "tablets", "routers", "watches"),
        ("Ohio", "Texas", "Maine", "Utah", "Idaho", "Iowa", "Kansas", "Nevada", "Oregon"),
        strict=True,
    )
)
UNPUNCTUATED_ZH = "\n".join(
    f"{item}批发价格表大全最新报价图片品牌排行榜{place}地区厂家直销包邮货到付款售后无忧"
    for item, place in zip(
        ("手机", "电脑", "相机", "打印机", "显示器", "音箱"),
        ("广州", "深圳", "上海", "北京", "杭州", "成都"),
        strict=True,
    )
)

SHORT_LINES_EN = "\n".join(
    ["Weather today.", "Sunny and warm.", "High of 25.", "Low of 14.", "Wind from the west.", "No rain expected.",
     "Pollen is high.", "Sunset at 8 pm.", "UV index 6.", "Air quality good.", "Humidity at 40.", "Tomorrow cooler.",
     "Frost by Friday.", "Clear skies tonight.", "Fog near the coast.", "Calm seas.",
     GOOD_EN_2.split("\n\n", maxsplit=1)[0]]
)
