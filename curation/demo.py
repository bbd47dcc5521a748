"""Write a small, realistic demo crawl: WARC files the project generates itself, with no network and no copied text.

    python -m curation.demo DIR [--files N]

`write_demo_crawl(DIR)` writes N gzip-compressed WARC/1.1 files (one gzip member per record, as Common Crawl
writes them), each starting with a warcinfo record, then a request and a response record per page. Output is
byte-for-byte the same on every run (fixed seeds, dates and record ids), so jobs over it are reproducible.

What is in it (for 3 files; the content scales with N):
- article pages in English and Chinese built from templates and word lists written for this module, inside page
  chrome (navigation, cookie banner, related-articles box, footer) that the `extract` step should strip;
- Chinese pages in UTF-8, in GBK with `charset=gbk` in the HTTP header, in GB2312, one GBK page whose header lies
  (`charset=iso-8859-1`) but whose `<meta charset>` is right, and one GBK page that declares nothing;
- exact duplicates (the same bytes at two URLs) and near duplicates (a few words changed, a sentence added, another
  site's chrome);
- junk: word salad, keyword spam in both languages, very short pages, a page that is only a menu;
- pages with personal data: e-mail addresses, phone numbers (mainland mobiles such as 138-1234-5678 and +86
  numbers, a landline, UK and US numbers), a mainland resident ID with a valid check digit and a Luhn-valid card
  number (all invented; the addresses use reserved example domains);
- records that are not pages: a PNG image, a robots.txt, a redirect.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import gzip
import hashlib
import random
import struct
import sys
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DEMO_NAMESPACE = uuid.UUID("6f1d3a52-8c7e-4f0b-9a41-2d5e6c7b8a90")
CRAWL_START = datetime.datetime(2026, 3, 2, 8, 0, 0, tzinfo=datetime.UTC)
ENGLISH_PER_FILE = 26
CHINESE_PER_FILE = 19


@dataclass(frozen=True)
class Page:
    """One crawled resource: where it was, what the server said, and the bytes it sent."""

    url: str
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: str = "200 OK"
    extra_headers: tuple[tuple[str, str], ...] = ()
    kind: str = "article"  # what the page is meant to be, for tests and for reading the demo


# --- English articles ----------------------------------------------------------------------------------------------

EN_TOPICS: dict[str, dict[str, list[str]]] = {
    "gardening": {
        "hobby": ["growing vegetables", "keeping an allotment", "container gardening"],
        "thing": ["tomato plant", "raised bed", "compost heap", "seed tray", "bean row", "strawberry patch"],
        "things": ["seedlings", "runner beans", "courgettes", "onion sets", "garlic bulbs", "lettuces", "earthworms"],
        "action": ["thin out the seedlings", "turn the compost", "mulch the beds", "save seeds from the best plants",
                   "sow a second crop of beans", "prune the lower leaves", "water deeply in the evening"],
        "role": ["a retired science teacher", "the allotment secretary", "an organic grower", "my grandmother",
                 "a volunteer at the community orchard"],
        "place": ["the allotments behind the railway station", "a walled garden near the river",
                  "the community orchard on Mill Lane", "a rooftop plot above the library"],
        "adj": ["surprisingly sturdy", "sweeter than expected", "remarkably healthy", "stubbornly slow"],
        "result": ["the harvest doubled", "the slugs finally lost interest", "the soil turned dark and crumbly",
                   "we had salad leaves until November"],
        "tool": ["hand trowel", "hoe", "watering can with a fine rose", "soil thermometer"],
        "fact": [
            "Tomatoes dislike cold nights, so most growers wait until late May before planting them outside.",
            "Crop rotation keeps soil diseases from building up in one bed year after year.",
            "Comfrey leaves rot down into a liquid feed that is rich in potassium.",
            "A layer of mulch keeps moisture in the ground during dry spells and smothers weeds.",
            "Beans and peas add nitrogen to the soil through nodules on their roots.",
        ],
    },
    "cycling": {
        "hobby": ["commuting by bike", "weekend touring", "riding through winter"],
        "thing": ["rear light", "chain", "pannier rack", "saddle", "brake pad", "mudguard"],
        "things": ["tyres", "cycle lanes", "spare tubes", "gears", "reflective bands", "junctions"],
        "action": ["check the tyre pressure", "clean and oil the chain", "plan a quieter route",
                   "adjust the saddle height", "carry a spare inner tube", "signal clearly at junctions"],
        "role": ["a bike mechanic", "a delivery rider", "the club's ride leader", "a council traffic engineer",
                 "a nurse who rides to every shift"],
        "place": ["the canal towpath", "the old railway line west of town", "the bike shop on Station Road",
                  "the hill above the reservoir"],
        "adj": ["noticeably smoother", "far more comfortable", "quieter than expected", "reassuringly reliable"],
        "result": ["the commute became ten minutes shorter", "the punctures stopped",
                   "the knee pain disappeared", "the whole ride felt calmer"],
        "tool": ["track pump", "multi-tool", "chain checker", "tyre lever"],
        "fact": [
            "A correctly adjusted saddle leaves a slight bend in the knee at the bottom of each pedal stroke.",
            "Wider tyres at lower pressure often roll just as fast on rough roads and grip better in the wet.",
            "Most chains need replacing after a few thousand kilometres, before they wear out the cassette.",
            "Riding a metre away from parked cars keeps you out of the door zone.",
            "Lights are a legal requirement after dark in many countries, front and rear.",
        ],
    },
    "bread": {
        "hobby": ["baking bread at home", "keeping a sourdough starter", "baking with whole grains"],
        "thing": ["sourdough starter", "loaf tin", "proving basket", "rye loaf", "batch of rolls", "dough"],
        "things": ["loaves", "flours", "crusts", "bubbles", "seeds", "kneading sessions"],
        "action": ["feed the starter twice a day", "let the dough rise slowly overnight",
                   "weigh the flour instead of measuring cups", "bake with steam for the first ten minutes",
                   "fold the dough every half hour", "cool the loaf completely before slicing"],
        "role": ["a baker who starts work at four", "my aunt", "a chef at the village cafe", "a home baker",
                 "the owner of a small mill"],
        "place": ["the bakery on Market Street", "a farm kitchen in the valley", "the mill by the weir",
                  "our tiny flat kitchen"],
        "adj": ["wonderfully open", "chewy and golden", "denser than planned", "lighter than the shop's"],
        "result": ["the crust finally crackled as it cooled", "the crumb opened up",
                   "the loaves stopped spreading flat", "the whole street could smell it"],
        "tool": ["digital scale", "dough scraper", "cast iron pot", "oven thermometer"],
        "fact": [
            "Salt slows fermentation, which is why some bakers add it after the flour has soaked.",
            "Rye flour holds a lot of water and makes a sticky dough that does not need kneading.",
            "A cold overnight rise develops more flavour than a quick rise in a warm room.",
            "Steam in the oven keeps the crust soft long enough for the loaf to expand.",
            "Whole wheat flour absorbs more water than white flour because of its bran.",
        ],
    },
    "birds": {
        "hobby": ["birdwatching", "counting garden birds", "keeping a bird diary"],
        "thing": ["pair of binoculars", "feeder", "nest box", "field guide", "hide", "heron"],
        "things": ["goldfinches", "swifts", "blue tits", "wading birds", "song thrushes", "sparrows"],
        "action": ["sit still for twenty minutes", "learn the common songs", "keep the feeders clean",
                   "count the birds at the same time each day", "put up a nest box facing north",
                   "walk the same route every week"],
        "role": ["a ranger at the nature reserve", "a schoolgirl with a notebook", "the local bird recorder",
                 "a photographer", "a farmer who leaves field margins wild"],
        "place": ["the reed beds at the estuary", "the park lake", "the wetland reserve north of the city",
                  "the churchyard yews"],
        "adj": ["unusually tame", "busier than ever", "beautifully clear", "hard to tell apart"],
        "result": ["the sightings doubled", "a pair of wrens moved in",
                   "the children learned six new songs", "the records filled two notebooks"],
        "tool": ["notebook", "telescope", "sound recorder", "pair of binoculars"],
        "fact": [
            "Swifts spend almost their whole lives in the air and land only to nest.",
            "Many small birds sing most strongly in the hour around sunrise.",
            "Dirty feeders can spread disease, so they should be washed regularly.",
            "Herons hunt by standing motionless in shallow water for long periods.",
            "Counting at the same time and place each week makes records comparable.",
        ],
    },
    "history": {
        "hobby": ["researching local history", "recording old buildings", "collecting oral history"],
        "thing": ["parish register", "old map", "mill building", "photograph", "letter", "census return"],
        "things": ["street names", "records", "old postcards", "shop signs", "gravestones", "memories"],
        "action": ["compare old maps with the street today", "interview older residents",
                   "photograph buildings before they change", "read the census returns",
                   "check every date against a second source", "label each photograph carefully"],
        "role": ["a retired postman", "the county archivist", "a volunteer at the museum", "a local historian",
                 "a teacher who runs the history club"],
        "place": ["the county record office", "the old wool market", "the chapel on Bridge Street",
                  "the museum above the town hall"],
        "adj": ["far older than anyone thought", "beautifully preserved", "badly faded", "surprisingly detailed"],
        "result": ["the mystery of the walled-up door was solved", "three forgotten families were traced",
                   "the exhibition drew record visitors", "a lost footpath was reopened"],
        "tool": ["magnifying glass", "scanner", "voice recorder", "notebook"],
        "fact": [
            "Tithe maps from the nineteenth century often record field names that have since disappeared.",
            "Census returns list who slept in each house on one particular night.",
            "Street names frequently preserve the trades that were once carried out there.",
            "Oral history recordings capture details that never reached written records.",
            "Datestones above doorways are not always reliable, since some were added later.",
        ],
    },
    "astronomy": {
        "hobby": ["stargazing", "observing the planets", "watching meteor showers"],
        "thing": ["telescope", "star chart", "red torch", "camping chair", "eyepiece", "planisphere"],
        "things": ["constellations", "meteors", "moons of Jupiter", "clear nights", "star clusters", "satellites"],
        "action": ["let the eyes adapt to the dark", "check the forecast for clear skies",
                   "start with the brightest planets", "use a red light to read charts",
                   "sketch what you see at the eyepiece", "find a site away from street lights"],
        "role": ["a member of the astronomy society", "a physics student", "a lighthouse keeper",
                 "my ten-year-old nephew", "an amateur who builds her own mirrors"],
        "place": ["the hill above the village", "the dark sky park", "the observatory at the college",
                  "a field behind the farm"],
        "adj": ["astonishingly sharp", "faint but unmistakable", "brighter than expected", "steady and clear"],
        "result": ["four moons of Jupiter appeared in a neat line", "we counted forty meteors in an hour",
                   "the rings of Saturn finally came into focus", "the Milky Way stretched overhead"],
        "tool": ["pair of binoculars", "planisphere", "red torch", "tripod"],
        "fact": [
            "Human eyes need around twenty minutes in darkness to adapt fully.",
            "Binoculars show the Moon's craters and the brighter moons of Jupiter.",
            "Meteor showers happen when Earth passes through dust left behind by a comet.",
            "Saturn's rings are visible in a small telescope at modest magnification.",
            "Light pollution hides most faint stars from city observers.",
        ],
    },
}

EN_TEMPLATES = [
    "{Time}, {role} from {place} started to {action}, and within a few weeks {result}.",
    "Most people who try to {action} for the first time underestimate how much the {things} matter.",
    "According to {role}, the secret is to {action} before the weather turns.",
    "It took {n} attempts before the {thing} looked {adj} enough to show anyone.",
    "There is no single correct way to {action}, but a few habits make it easier.",
    "If you only have an hour on a {day}, spend it learning to {action}.",
    "{Role} keeps a notebook about every {thing} and writes down what went wrong.",
    "The {thing} that {role} recommended turned out to be {adj} and cheap.",
    "Beginners often ask whether they need a {tool}; it helps, but it is not essential.",
    "We visited {place} on a grey morning in {month} and counted {n} {things} before lunch.",
    "What surprised me most was how {adj} the {thing} seemed after only {n} days.",
    "A good rule of thumb is to {action} once a week and to check the {things} every few days.",
    "A decent {tool} costs about {price} pounds, and a cheap one rarely lasts.",
    "{Role} pointed out that {result} when people {action} at the right moment.",
    "Nobody at {place} could remember a year when the {things} had been so {adj}.",
    "The mistake I made early on was trying to {action} far too often.",
    "After {n} years I still learn something new every time I {action}.",
    "A local group meets at {place} on the first {day} of each month, and newcomers are welcome.",
    "Keep the {tool} clean and dry, and it will last for years.",
    "The difference between a {adj} {thing} and a disappointing one is usually patience.",
    "By the end of {month}, {result}.",
    "My neighbour, {role}, laughed when I tried to {action} with a borrowed {tool}.",
    "Some guides insist that you must {action}, yet many experienced people skip that step.",
    "On the whole, the {things} reward attention more than expensive equipment does.",
    "When the light fades around {clock}, it is time to pack up the {tool} and head home.",
    "Record what you did and when; after a year those notes are more useful than any book.",
    "For a family of four, about {n} {things} are plenty for a whole season.",
    "The library near {place} has a shelf of older books on {hobby}, and several are worth reading.",
    "Even on a bad day, an hour spent trying to {action} clears the head.",
    "It is worth asking {role} before buying anything, because most are happy to share advice.",
    "In {month}, the {things} near {place} were {adj}, which made everything easier.",
    "I would not call the result perfect, but it was {adj} and we were proud of it.",
    "Try to {action} with a friend, since two people notice twice as much.",
    "Several readers wrote to say that {result} after they changed their routine.",
    "Nothing about {hobby} requires talent, only a willingness to {action} again and again.",
    "When I asked {role} what she would change, the answer was simple: {action}.",
]
EN_TITLES = [
    "What {n} years of {hobby} taught me",
    "A beginner's guide to {hobby}",
    "Notes from {place}",
    "Why the {things} matter more than you think",
    "How to {action} without fuss",
    "A season of {hobby}, month by month",
    "Small lessons from {hobby}",
]
EN_TIMES = ["Last spring", "Two summers ago", "Early last October", "In the first week of March",
            "One wet January", "A few years back"]
EN_MONTHS = ["February", "March", "April", "May", "June", "July", "August", "September", "October", "November"]
EN_DAYS = ["Saturday", "Sunday", "Wednesday", "Friday"]
EN_CLOCKS = ["six o'clock", "half past seven", "nine in the evening", "eight"]
EN_AUTHORS = ["Ruth Calder", "Owen Marsh", "Priya Natarajan", "Tom Ellery", "Grace Okafor", "Hugh Penrose",
              "Ana Ferreira", "Dan Whitlock"]


def _english_sentence(rng: random.Random, topic: dict[str, list[str]], template: str) -> str:
    values = {
        "time": rng.choice(EN_TIMES),
        "role": rng.choice(topic["role"]),
        "place": rng.choice(topic["place"]),
        "action": rng.choice(topic["action"]),
        "result": rng.choice(topic["result"]),
        "thing": rng.choice(topic["thing"]),
        "things": rng.choice(topic["things"]),
        "adj": rng.choice(topic["adj"]),
        "tool": rng.choice(topic["tool"]),
        "hobby": rng.choice(topic["hobby"]),
        "n": str(rng.randint(3, 14)),
        "price": str(rng.choice([12, 15, 20, 25, 30, 40, 60])),
        "month": rng.choice(EN_MONTHS),
        "day": rng.choice(EN_DAYS),
        "clock": rng.choice(EN_CLOCKS),
    }
    values["Time"] = values["time"]
    values["Role"] = values["role"][0].upper() + values["role"][1:]
    return template.format(**values)


def english_article(rng: random.Random, topic_name: str) -> tuple[str, list[str]]:
    """Return (title, paragraphs) of an English article on one topic, from templates without repeats."""
    topic = EN_TOPICS[topic_name]
    templates = rng.sample(EN_TEMPLATES, k=rng.randint(16, 22))
    facts = rng.sample(topic["fact"], k=3)
    sentences = [_english_sentence(rng, topic, template) for template in templates]
    for fact in facts:
        sentences.insert(rng.randrange(len(sentences) + 1), fact)
    paragraphs = []
    while sentences:
        size = min(len(sentences), rng.randint(3, 5))
        paragraphs.append(" ".join(sentences[:size]))
        sentences = sentences[size:]
    title = _english_sentence(rng, topic, rng.choice(EN_TITLES))
    return title[0].upper() + title[1:], paragraphs


# --- Chinese articles ----------------------------------------------------------------------------------------------

ZH_TOPICS: dict[str, dict[str, list[str]]] = {
    "balcony": {
        "hobby": ["阳台种菜", "在家种花草", "用花盆种香草"],
        "thing": ["番茄苗", "花盆", "堆肥桶", "育苗盘", "辣椒", "薄荷"],
        "action": ["给幼苗间苗", "翻动堆肥", "在傍晚浇透水", "把老叶剪掉", "换一次盆土", "给藤蔓搭架子"],
        "role": ["退休的生物老师", "楼下的王阿姨", "社区菜园的志愿者", "一位做了十年园艺的邻居", "我的外婆"],
        "place": ["小区的屋顶菜园", "城郊的农场", "老城区的花鸟市场", "学校后面的试验田"],
        "adj": ["格外结实", "比想象中甜", "长得很旺", "慢得出奇"],
        "result": ["收成多了一倍", "蜗牛再也没出现", "土壤变得松软发黑", "一直到十一月都有菜吃"],
        "tool": ["小铲子", "喷壶", "修枝剪", "温度计"],
        "fact": [
            "番茄怕冷，夜间温度稳定在十度以上再移栽比较稳妥。",
            "轮作可以减少土壤里病菌的积累，这是老菜农常说的道理。",
            "在盆土表面铺一层干草，可以保持水分，也能压住杂草。",
            "豆类植物的根瘤能给土壤增加氮肥，适合和叶菜轮流种。",
        ],
    },
    "cooking": {
        "hobby": ["做家常菜", "在家蒸馒头", "学做面食"],
        "thing": ["老面", "蒸笼", "面团", "砂锅", "馒头", "饺子馅"],
        "action": ["把面团揉到表面光滑", "让面团慢慢发酵一夜", "用秤称面粉", "先用小火把锅烧热",
                   "提前把肉馅腌好", "蒸好以后焖两分钟再开盖"],
        "role": ["开了二十年早点铺的师傅", "我的姑姑", "小区食堂的大厨", "一位喜欢做饭的程序员", "面粉厂的老师傅"],
        "place": ["菜市场门口的早点铺", "乡下的老厨房", "老街上的面馆", "我们家的小厨房"],
        "adj": ["又白又软", "香得让人意外", "比店里的还好吃", "有点发硬"],
        "result": ["馒头终于不塌了", "饺子皮不再破了", "一家人都抢着吃", "整条楼道都能闻到香味"],
        "tool": ["电子秤", "擀面杖", "铁锅", "蒸笼布"],
        "fact": [
            "面团发酵的速度和温度关系很大，冬天往往需要更长的时间。",
            "盐会减慢发酵，所以有些师傅喜欢最后再加盐。",
            "蒸馒头时冷水上锅，面团受热更均匀，表面也更光滑。",
            "全麦面粉吸水多，和面时要比白面粉多加一些水。",
        ],
    },
    "cycling": {
        "hobby": ["骑车上班", "周末骑行", "冬天坚持骑车"],
        "thing": ["尾灯", "链条", "货架", "车座", "刹车片", "挡泥板"],
        "action": ["检查轮胎气压", "清洗并给链条上油", "选一条车少的路线", "调整车座高度",
                   "随身带一条备用内胎", "在路口提前打手势"],
        "role": ["修车铺的师傅", "一位外卖骑手", "骑行俱乐部的领队", "交通规划部门的工程师", "每天骑车上班的护士"],
        "place": ["河边的绿道", "城西的老铁路公园", "车站路上的自行车店", "水库上面的山坡"],
        "adj": ["明显顺畅多了", "舒服了很多", "比想象中安静", "非常可靠"],
        "result": ["通勤时间缩短了十分钟", "再也没有扎过胎", "膝盖不疼了", "整段路骑得更从容了"],
        "tool": ["打气筒", "多功能工具", "链条尺", "撬胎棒"],
        "fact": [
            "车座高度合适时，脚踩到最低点膝盖还应该微微弯曲。",
            "链条磨损到一定程度就要更换，否则会连带磨坏飞轮。",
            "骑车时离路边停着的汽车保持一米左右，可以避开突然打开的车门。",
            "夜间骑行要同时开前灯和尾灯，这在很多城市是硬性规定。",
        ],
    },
    "birds": {
        "hobby": ["观鸟", "记录小区里的鸟", "写观鸟日记"],
        "thing": ["望远镜", "喂鸟器", "鸟巢箱", "图鉴", "观鸟棚", "白鹭"],
        "action": ["安静地坐上二十分钟", "学会分辨常见的鸟叫", "定期清洗喂鸟器", "每天同一时间数一数鸟",
                   "把鸟巢箱挂在朝北的墙上", "每周走同一条路线"],
        "role": ["湿地公园的管理员", "一个带着笔记本的小学生", "本地观鸟协会的记录员", "一位摄影爱好者",
                 "在田边留出野草带的农民"],
        "place": ["河口的芦苇荡", "公园的湖边", "城北的湿地保护区", "老寺庙旁边的树林"],
        "adj": ["特别不怕人", "比往年多得多", "清晰得惊人", "很难分辨"],
        "result": ["看到的种类多了一倍", "一对麻雀住进了鸟巢箱", "孩子们学会了六种鸟叫", "记录写满了两个本子"],
        "tool": ["笔记本", "单筒望远镜", "录音笔", "双筒望远镜"],
        "fact": [
            "很多小鸟在日出前后的一个小时里叫得最响亮。",
            "喂鸟器如果长期不清洗，容易传播疾病。",
            "白鹭常常一动不动地站在浅水里，等鱼游到脚边。",
            "固定时间和地点观察，记录下来的数据才有可比性。",
        ],
    },
    "oldstreets": {
        "hobby": ["研究地方历史", "记录老建筑", "收集老人讲的故事"],
        "thing": ["族谱", "老地图", "旧粮仓", "老照片", "家书", "地契"],
        "action": ["把老地图和今天的街道对照", "采访街坊里的老人", "在老房子改建之前拍照", "去档案馆查资料",
                   "用第二个来源核对每一个日期", "给每张照片认真写好说明"],
        "role": ["退休的邮递员", "市档案馆的工作人员", "博物馆的志愿者", "一位地方史爱好者", "带历史兴趣小组的老师"],
        "place": ["市档案馆", "老街的布市", "桥头的祠堂", "钟楼旁边的小博物馆"],
        "adj": ["比大家以为的还要古老", "保存得很好", "已经褪色", "细节丰富得惊人"],
        "result": ["那扇被封住的门终于有了解释", "找到了三户早已搬走的人家", "展览吸引了创纪录的观众",
                   "一条被遗忘的小路重新开放"],
        "tool": ["放大镜", "扫描仪", "录音笔", "笔记本"],
        "fact": [
            "很多街道的名字保留着过去在那里经营的行当。",
            "老人口述的细节，常常是文字档案里找不到的。",
            "门楣上刻的年份不一定可靠，有些是后来补刻的。",
            "旧地图上标注的地名，能帮助我们找到已经消失的河道。",
        ],
    },
    "tea": {
        "hobby": ["喝茶", "学习泡茶", "收集各地的茶"],
        "thing": ["紫砂壶", "盖碗", "公道杯", "茶饼", "绿茶", "铁观音"],
        "action": ["先用热水温一下杯子", "控制好水温", "第一泡快速出汤", "把茶叶放在干燥阴凉的地方",
                   "每次少放一点茶叶", "注意出汤的时间"],
        "role": ["茶庄的老板", "一位在茶山长大的朋友", "茶艺课的老师", "我的爷爷", "做了三十年茶的师傅"],
        "place": ["山脚下的茶园", "老街上的茶馆", "南方的一个小茶厂", "公园里的茶室"],
        "adj": ["清香持久", "回甘明显", "比想象中浓", "有点苦涩"],
        "result": ["茶汤变得清亮了", "苦味明显少了", "朋友们都问是什么茶", "一泡茶能喝很久"],
        "tool": ["温度计", "电水壶", "茶则", "茶盘"],
        "fact": [
            "绿茶一般用八十度左右的水冲泡，水太烫容易把茶叶泡熟。",
            "乌龙茶可以多次冲泡，每一泡的香气都不太一样。",
            "茶叶容易吸收异味，最好单独密封存放。",
            "普洱茶饼在通风干燥的环境里慢慢陈化，味道会变得醇和。",
        ],
    },
}

ZH_TEMPLATES = [
    "{time}，{role}在{place}开始尝试{action}，几个星期以后{result}。",
    "很多第一次{hobby}的人，都低估了{thing}的重要性。",
    "按照{role}的说法，关键是在天气变化之前{action}。",
    "我们试了{n}次，{thing}才终于变得{adj}。",
    "{hobby}并没有唯一正确的方法，但是养成几个好习惯会让事情简单很多。",
    "如果周末只有一个小时，不妨用来学习{action}。",
    "{role}有一个笔记本，把每一次的经过都记了下来。",
    "{role}推荐的{thing}，后来证明{adj}，而且并不贵。",
    "初学者常常问是否需要专门的{tool}，其实有当然更好，但并不是必须的。",
    "{month}的一个阴天早上，我们来到{place}，一上午就看了好几个小时。",
    "让我最意外的是，只过了{n}天，{thing}就变得这么{adj}。",
    "一个比较可靠的经验是每周{action}一次，并且每隔几天检查一下{thing}。",
    "一个像样的{tool}，价格大约在{price}元左右，太便宜的往往用不久。",
    "{role}提醒我们，只要在合适的时候{action}，{result}。",
    "{place}的老人们都说，从来没有哪一年像今年这样热闹。",
    "我刚开始犯的错误，就是太着急了，总想一次做完。",
    "坚持了{n}年，每次{action}还是能学到新的东西。",
    "本地的爱好者每个月第一个{day}在{place}聚会，欢迎新朋友参加。",
    "{tool}用完以后擦干净、放在干燥的地方，可以用很多年。",
    "一个{adj}的{thing}和一个让人失望的{thing}之间，差别往往只是耐心。",
    "到了{month}底，{result}。",
    "邻居是{role}，看到我用借来的{tool}忙了半天，忍不住笑了起来。",
    "有些教程坚持一定要{action}，但不少有经验的人根本不做这一步。",
    "总的来说，认真观察和耐心比昂贵的设备更重要。",
    "天色暗下来的时候，就该收拾好{tool}回家了。",
    "把做过的事情和时间都记下来，一年以后这些笔记比任何书都有用。",
    "{place}附近的图书馆里有一小架关于{hobby}的旧书，其中几本很值得一读。",
    "就算状态不好，花一个小时{action}也能让人放松下来。",
    "买东西之前最好先问问{role}，他们大多愿意分享经验。",
    "结果虽然谈不上完美，但是{adj}，我们还是很有成就感。",
    "最好找个朋友一起{action}，两个人能发现的东西多一倍。",
    "好几位读者来信说，调整了习惯以后，{result}。",
    "{hobby}不需要什么天赋，只需要愿意一次又一次地{action}。",
]
ZH_TITLES = ["{hobby}{n}年，我学到的几件事", "写给新手的{hobby}指南", "{place}见闻", "关于{hobby}的一些小经验",
             "{hobby}：一年四季的记录"]
ZH_TIMES = ["去年春天", "前年夏天", "去年十月初", "三月的第一个星期", "一个下雨的一月", "几年前"]
ZH_MONTHS = ["二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月"]
ZH_DAYS = ["星期六", "星期天", "星期三", "星期五"]
ZH_AUTHORS = ["李静", "王建国", "陈晓梅", "张伟", "刘芳", "周明", "赵雪", "孙立"]


def _chinese_sentence(rng: random.Random, topic: dict[str, list[str]], template: str) -> str:
    values = {
        "time": rng.choice(ZH_TIMES),
        "role": rng.choice(topic["role"]),
        "place": rng.choice(topic["place"]),
        "action": rng.choice(topic["action"]),
        "result": rng.choice(topic["result"]),
        "thing": rng.choice(topic["thing"]),
        "adj": rng.choice(topic["adj"]),
        "tool": rng.choice(topic["tool"]),
        "hobby": rng.choice(topic["hobby"]),
        "n": str(rng.randint(3, 12)),
        "price": str(rng.choice([30, 50, 80, 120, 200])),
        "month": rng.choice(ZH_MONTHS),
        "day": rng.choice(ZH_DAYS),
    }
    return template.format(**values)


def chinese_article(rng: random.Random, topic_name: str) -> tuple[str, list[str]]:
    """Return (title, paragraphs) of a Chinese article on one topic, from templates without repeats."""
    topic = ZH_TOPICS[topic_name]
    templates = rng.sample(ZH_TEMPLATES, k=rng.randint(15, 20))
    sentences = [_chinese_sentence(rng, topic, template) for template in templates]
    for fact in rng.sample(topic["fact"], k=3):
        sentences.insert(rng.randrange(len(sentences) + 1), fact)
    paragraphs = []
    while sentences:
        size = min(len(sentences), rng.randint(3, 5))
        paragraphs.append("".join(sentences[:size]))
        sentences = sentences[size:]
    return _chinese_sentence(rng, topic, rng.choice(ZH_TITLES)), paragraphs


# --- page chrome ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    host: str
    name: str
    lang: str
    nav: tuple[str, ...]
    cookie: str
    related: str
    footer: str


EN_SITES = (
    Site("www.greenfingers-journal.example", "Greenfingers Journal", "en",
         ("Home", "Grow", "Cook", "Outdoors", "History", "Sky at night", "Newsletter", "About us"),
         "We use cookies to remember your settings and to measure traffic. Accept all | Manage preferences",
         "Related articles", "© 2026 Greenfingers Journal. About · Contact · Privacy policy · Terms of use"),
    Site("www.weekendpursuits.example", "Weekend Pursuits", "en",
         ("News", "Hobbies", "Clubs", "Events", "Shop", "Subscribe", "Log in"),
         "This site uses cookies. By continuing to browse you agree to our use of cookies. OK",
         "You may also like", "Weekend Pursuits Ltd, registered in England. Advertise · Careers · Cookie settings"),
    Site("blog.quietlanes.example", "Quiet Lanes", "en",
         ("Blog", "Routes", "Kit reviews", "Contact"),
         "Cookies help us deliver our services. Learn more | Got it",
         "More from the blog", "Quiet Lanes is written by volunteers. RSS · Archive · Privacy"),
    Site("www.townandparish.example", "Town & Parish", "en",
         ("Home", "Local news", "Heritage", "Nature", "What's on", "Letters", "Donate"),
         "We and our partners use cookies to personalise content. Accept | Reject | Settings",
         "Most read this week", "Town & Parish Community Trust, charity no. 1000000. Accessibility · Privacy"),
)
ZH_SITES = (
    Site("www.shenghuo-riji.example", "生活日记网", "zh",
         ("首页", "家居", "美食", "出行", "文化", "图片", "论坛", "关于我们"),
         "本站使用Cookie来改善您的浏览体验。继续浏览即表示您同意。 同意 | 设置",
         "相关文章", "版权所有 2026 生活日记网 京ICP备00000000号 联系我们 · 隐私政策"),
    Site("www.chengshi-manbu.example", "城市漫步", "zh",
         ("首页", "资讯", "骑行", "观鸟", "老街", "活动", "投稿"),
         "我们使用Cookie统计访问数据。 接受 | 拒绝",
         "猜你喜欢", "城市漫步 · 商务合作 · 友情链接 · 网站地图 沪ICP备00000000号"),
    Site("bbs.chaxiang.example", "茶香论坛", "zh",
         ("论坛首页", "茶叶知识", "茶具", "茶友交流", "搜索", "注册", "登录"),
         "本论坛使用Cookie保存登录状态。 知道了",
         "热门帖子", "茶香论坛 粤ICP备00000000号 免责声明 · 联系管理员"),
)


def render_page(site: Site, title: str, paragraphs: Sequence[str], related: Sequence[str], *, author: str,
                date: str, charset: str = "utf-8", meta_charset: str | None = "utf-8") -> str:
    """Return an article page as HTML text: the site's chrome around the article."""
    lang = "zh-CN" if site.lang == "zh" else "en"
    meta = f'<meta charset="{meta_charset}">\n' if meta_charset else ""
    nav = "\n".join(f'    <li><a href="/{index}/">{item}</a></li>' for index, item in enumerate(site.nav))
    body = "\n".join(f"    <p>{paragraph}</p>" for paragraph in paragraphs)
    links = "\n".join(f'      <li><a href="/related/{index}">{item}</a></li>' for index, item in enumerate(related))
    byline = f"{author} · {date}" if site.lang == "en" else f"作者：{author}  发布时间：{date}"
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
{meta}<title>{title} - {site.name}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/site.css">
<script>window.dataLayer = window.dataLayer || []; function track(e) {{ dataLayer.push(e); }}</script>
</head>
<body>
<div class="cookie-banner" id="cookies">{site.cookie}</div>
<header class="site-header">
  <a class="logo" href="/">{site.name}</a>
  <nav><ul>
{nav}
  </ul></nav>
  <form class="search" action="/search"><input name="q" placeholder="Search"><button>Go</button></form>
</header>
<main>
  <article>
    <h1>{title}</h1>
    <p class="byline">{byline}</p>
{body}
  </article>
  <aside class="related">
    <h2>{site.related}</h2>
    <ul>
{links}
    </ul>
  </aside>
</main>
<footer class="site-footer"><p>{site.footer}</p></footer>
<script src="/static/analytics.js" async></script>
</body>
</html>
"""


# --- special pages -------------------------------------------------------------------------------------------------


def resident_id(region: str, birth: str, sequence: str) -> str:
    """Return a mainland resident ID with its ISO 7064 MOD 11-2 check digit (GB 11643-1999)."""
    body = region + birth + sequence
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(digit) * weight for digit, weight in zip(body, weights, strict=True)) % 11]


def luhn_number(prefix: str) -> str:
    """Return `prefix` followed by the Luhn check digit."""
    total = 0
    for position, digit in enumerate(reversed(prefix)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return prefix + str((10 - total % 10) % 10)


def tiny_png() -> bytes:
    """Return a valid 2x2 PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = b"\x00\xff\x00\x00\x00\x00\xff\x00\x00\x00\x00\xff\xff\xff\xff"
    rows = pixels[:7] + b"\x00" + pixels[7:13]
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


SALAD_SYLLABLES = ("ka", "lo", "ren", "tis", "mo", "vel", "qua", "dor", "ny", "sef", "ul", "pra", "zin", "te",
                   "bor", "ich", "an", "mi", "sul", "gra")
SPAM_EN = ("cheap flights", "best price", "buy now", "discount watches", "free shipping", "top deals",
           "cheap hotels", "limited offer")
SPAM_ZH = ("最新电影", "免费观看", "高清下载", "在线播放", "热门推荐", "手机版", "官方网站", "点击进入")


def word_salad(rng: random.Random, words: int) -> str:
    return " ".join(
        "".join(rng.choice(SALAD_SYLLABLES) for _ in range(rng.randint(1, 3))) for _ in range(words)
    ).capitalize() + "."


def junk_pages(rng: random.Random) -> list[tuple[str, str, str]]:
    """Return (kind, language, html) for each junk page."""
    salad = [f"<p>{word_salad(rng, rng.randint(40, 70))}</p>" for _ in range(5)]
    spam_en = " ".join(rng.choice(SPAM_EN) for _ in range(220))
    spam_zh = " ".join(rng.choice(SPAM_ZH) for _ in range(200))
    menu = "\n".join(f'<li><a href="/c/{index}">{name}</a></li>' for index, name in enumerate(
        ("Home", "Products", "Services", "Blog", "Careers", "Contact", "Sitemap", "Help", "Login")))
    return [
        ("junk_salad", "en", f"<html><head><title>Quatorsul</title></head><body>{''.join(salad)}</body></html>"),
        ("junk_salad", "en", f"<html><body><div>{''.join(salad[::-1])}</div></body></html>"),
        ("junk_spam", "en", f"<html><head><title>cheap flights best price</title></head><body><p>{spam_en}</p>"
                            f"</body></html>"),
        ("junk_spam", "en", f"<html><body><h1>Top deals</h1><div>{spam_en[:900]}</div><div>{spam_en[:900]}</div>"
                            f"</body></html>"),
        ("junk_spam", "zh", f'<html lang="zh"><head><meta charset="utf-8"><title>最新电影</title></head><body>'
                            f"<p>{spam_zh}</p></body></html>"),
        ("junk_spam", "zh", f'<html lang="zh"><head><meta charset="utf-8"><title>高清下载</title></head><body>'
                            f"<div>{spam_zh[:600]}</div><div>{spam_zh[:600]}</div></body></html>"),
        ("junk_short", "en", "<html><head><title>Coming soon</title></head><body><p>Coming soon.</p></body></html>"),
        ("junk_short", "zh", '<html><head><meta charset="utf-8"><title>建设中</title></head><body><p>网站建设中，'
                             "敬请期待。</p></body></html>"),
        ("junk_menu", "en", f"<html><head><title>Menu</title></head><body><nav><ul>{menu}</ul></nav></body></html>"),
        ("junk_menu", "en", f"<html><body><ul class='menu'>{menu}</ul><ul class='menu'>{menu}</ul></body></html>"),
    ]


def pii_paragraphs(lang: str) -> list[str]:
    """Return contact paragraphs full of invented personal data, to append to an article."""
    card = luhn_number("453201511283036")
    if lang == "en":
        return [
            "If you would like to join the group, write to margaret.hollis@example.org or call Margaret on "
            "+44 20 7946 0321 any weekday evening.",
            f"Orders for the club calendar can be paid by card; one reader accidentally posted her card number, "
            f"{card}, in the comments, so we removed the comment and reminded everyone never to share such "
            f"details. Our treasurer in New York can be reached at (212) 555-0147.",
        ]
    return [
        "有兴趣参加活动的朋友，可以发邮件到 zhang.lei@example.cn，或者直接打电话给张老师：138-1234-5678。",
        f"报名时请填写真实信息，例如：姓名李华，手机 +86 139 8765 4321，身份证号 "
        f"{resident_id('110105', '19880614', '123')}，办公电话 010-6552-9988。",
        f"有读者在留言里贴出了自己的银行卡号 {card}，我们已经删除，请大家注意保护个人信息。",
    ]


# --- the crawl -----------------------------------------------------------------------------------------------------


def _date(rng: random.Random, lang: str) -> str:
    day = datetime.date(2026, 1, 5) + datetime.timedelta(days=rng.randint(0, 50))
    return day.strftime("%d %B %Y") if lang == "en" else f"{day.year}年{day.month}月{day.day}日"


def _near_copy(rng: random.Random, paragraphs: list[str], lang: str) -> list[str]:
    """Return the paragraphs with a few words changed and one sentence added, as a reposting site does."""
    swaps_en = (("surprisingly", "really"), ("often", "usually"), ("every", "each"), ("about", "around"),
                ("people", "folk"))
    swaps_zh = (("很多", "许多"), ("常常", "经常"), ("比较", "相对"), ("大约", "大概"), ("非常", "特别"))
    changed = list(paragraphs)
    for old, new in swaps_en if lang == "en" else swaps_zh:
        for index, paragraph in enumerate(changed):
            if old in paragraph:
                changed[index] = paragraph.replace(old, new, 1)
                break
    extra = ("This article first appeared in a regional newsletter and is republished with permission."
             if lang == "en" else "本文最早发表于一份地方通讯，经作者同意转载。")
    changed.insert(rng.randrange(1, len(changed)), extra)
    return changed


def build_pages(files: int) -> list[Page]:
    """Return every page of the crawl, in crawl order; see the module docstring for what is there."""
    rng = random.Random(f"curation-demo:{files}")
    pages: list[Page] = []
    english_titles: list[str] = []
    chinese_titles: list[str] = []
    articles_en: list[tuple[Site, str, list[str], str, str]] = []
    for index in range(ENGLISH_PER_FILE * files):
        topic = list(EN_TOPICS)[index % len(EN_TOPICS)]
        title, paragraphs = english_article(random.Random(f"en:{index}"), topic)
        site = EN_SITES[index % len(EN_SITES)]
        articles_en.append((site, title, paragraphs, rng.choice(EN_AUTHORS), _date(rng, "en")))
        english_titles.append(title)
    articles_zh: list[tuple[Site, str, list[str], str, str]] = []
    for index in range(CHINESE_PER_FILE * files):
        topic = list(ZH_TOPICS)[index % len(ZH_TOPICS)]
        title, paragraphs = chinese_article(random.Random(f"zh:{index}"), topic)
        site = ZH_SITES[index % len(ZH_SITES)]
        articles_zh.append((site, title, paragraphs, rng.choice(ZH_AUTHORS), _date(rng, "zh")))
        chinese_titles.append(title)

    def url(site: Site, lang: str, index: int, suffix: str = "") -> str:
        return f"https://{site.host}/{'articles' if lang == 'en' else 'wenzhang'}/{index:04d}{suffix}.html"

    for index, (site, title, paragraphs, author, date) in enumerate(articles_en):
        kind = "article"
        if index % 20 == 7:
            paragraphs = [*paragraphs, *pii_paragraphs("en")]  # noqa: PLW2901  (this page also carries personal data)
            kind = "pii"
        related = rng.sample(english_titles, k=5)
        html = render_page(site, title, paragraphs, related, author=author, date=date)
        pages.append(Page(url(site, "en", index), html.encode("utf-8"), kind=kind))
        if index % 20 == 3:  # the same bytes at a second address
            pages.append(Page(url(site, "en", index, "-amp"), html.encode("utf-8"), kind="exact_duplicate"))
        if index % 20 == 11:  # reposted with small edits on another site
            other = EN_SITES[(index + 1) % len(EN_SITES)]
            copy = render_page(other, title, _near_copy(rng, paragraphs, "en"), rng.sample(english_titles, k=5),
                               author=author, date=date)
            pages.append(Page(url(other, "en", 9000 + index), copy.encode("utf-8"), kind="near_duplicate"))

    for index, (site, title, paragraphs, author, date) in enumerate(articles_zh):
        related = rng.sample(chinese_titles, k=5)
        kind = "article"
        if index % 15 == 5:
            paragraphs = [*paragraphs, *pii_paragraphs("zh")]  # noqa: PLW2901  (this page also carries personal data)
            kind = "pii"
        variant = index % 6
        if variant == 1:  # GBK, declared in the HTTP header and the page
            html = render_page(site, title, paragraphs, related, author=author, date=date, meta_charset="gbk")
            pages.append(Page(url(site, "zh", index), html.encode("gbk"), "text/html; charset=gbk", kind=kind))
        elif variant == 3 and index < 6:  # GBK, but the header lies: the page's own meta tag is right
            html = render_page(site, title, paragraphs, related, author=author, date=date, meta_charset="gbk")
            pages.append(Page(url(site, "zh", index), html.encode("gbk"), "text/html; charset=iso-8859-1",
                              kind="gbk_header_lies"))
        elif variant == 3 and index < 12:  # GBK declared nowhere: only detection can tell
            html = render_page(site, title, paragraphs, related, author=author, date=date, meta_charset=None)
            pages.append(Page(url(site, "zh", index), html.encode("gbk"), "text/html", kind="gbk_undeclared"))
        elif variant == 5:  # labelled GB2312, which browsers (and we) decode as GBK
            html = render_page(site, title, paragraphs, related, author=author, date=date, meta_charset="gb2312")
            pages.append(Page(url(site, "zh", index), html.encode("gbk"), "text/html; charset=gb2312", kind=kind))
        else:
            html = render_page(site, title, paragraphs, related, author=author, date=date)
            pages.append(Page(url(site, "zh", index), html.encode("utf-8"), kind=kind))
        if index % 15 == 2:  # the same bytes at a second address
            original = pages[-1]
            pages.append(Page(url(site, "zh", index, "-m"), original.body, original.content_type,
                              kind="exact_duplicate"))
        if index % 15 == 9:
            other = ZH_SITES[(index + 1) % len(ZH_SITES)]
            copy = render_page(other, title, _near_copy(rng, paragraphs, "zh"), rng.sample(chinese_titles, k=5),
                               author=author, date=date)
            pages.append(Page(url(other, "zh", 9000 + index), copy.encode("utf-8"), kind="near_duplicate"))

    for index, (kind, lang, html) in enumerate(junk_pages(random.Random("junk"))):
        host = "www.deals-galore.example" if lang == "en" else "www.dianying-xiazai.example"
        pages.append(Page(f"http://{host}/p/{index}", html.encode("utf-8"), kind=kind))

    for number in range(files):  # records that are not pages, one set per file
        host = EN_SITES[number % len(EN_SITES)].host
        pages.append(Page(f"https://{host}/static/logo-{number}.png", tiny_png(), "image/png", kind="binary"))
        pages.append(Page(f"https://{host}/robots.txt", b"User-agent: *\nDisallow: /search\n",
                          "text/plain", kind="not_html"))
        pages.append(Page(f"http://{host}/old-home-{number}", b"", "text/html", "301 Moved Permanently",
                          (("Location", f"https://{host}/"),), kind="redirect"))

    # Interleave deterministically so that every file gets a mix, and the two copies of a duplicate usually land in
    # different files (as they would in a real crawl).
    random.Random("order").shuffle(pages)
    return pages


# --- WARC writing --------------------------------------------------------------------------------------------------


def _sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def _record_id(*parts: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(DEMO_NAMESPACE, ':'.join(parts))}>"


def warc_record(headers: list[tuple[str, str]], block: bytes) -> bytes:
    """Return one WARC/1.1 record: the headers (Content-Length added), the block and the record separator."""
    lines = ["WARC/1.1", *(f"{name}: {value}" for name, value in headers), f"Content-Length: {len(block)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + block + b"\r\n\r\n"


def _http_response(page: Page, date: datetime.datetime) -> tuple[bytes, bytes]:
    headers = [f"HTTP/1.1 {page.status}", f"Date: {date.strftime('%a, %d %b %Y %H:%M:%S GMT')}",
               "Server: nginx", f"Content-Type: {page.content_type}", f"Content-Length: {len(page.body)}"]
    headers += [f"{name}: {value}" for name, value in page.extra_headers]
    head = ("\r\n".join(headers) + "\r\n\r\n").encode("latin-1")
    return head + page.body, page.body


def write_demo_crawl(directory: Path, files: int = 3) -> list[Path]:
    """Write the demo crawl as `files` .warc.gz files in `directory` (created if needed); return their paths.

    Overwrites files of the same names; writes the same bytes on every run.
    """
    if files < 1:
        raise ValueError("files must be at least 1")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    pages = build_pages(files)
    paths = []
    for number in range(files):
        name = f"demo-crawl-{number:05d}.warc.gz"
        info_id = _record_id("warcinfo", name)
        info = (b"software: curation.demo\r\nformat: WARC File Format 1.1\r\nhostname: demo-crawler\r\n"
                b"operator: curation demo (generated, no network)\r\nisPartOf: demo-crawl\r\n")
        started = CRAWL_START + datetime.timedelta(hours=number)
        records = [warc_record([("WARC-Type", "warcinfo"), ("WARC-Date", _iso(started)), ("WARC-Filename", name),
                                ("WARC-Record-ID", info_id), ("Content-Type", "application/warc-fields")], info)]
        for position, page in enumerate(pages[number::files]):
            fetched = started + datetime.timedelta(seconds=7 * position + 1)
            response_id = _record_id("response", page.url)
            host = page.url.split("/")[2]
            target = "/" + page.url.split("/", 3)[3] if page.url.count("/") >= 3 else "/"
            request = (f"GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curation-demo/1.0\r\n"
                       f"Accept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.8\r\n\r\n").encode("latin-1")
            address = f"192.0.2.{int(hashlib.sha1(host.encode()).hexdigest(), 16) % 250 + 1}"
            common = [("WARC-Date", _iso(fetched)), ("WARC-Target-URI", page.url), ("WARC-Warcinfo-ID", info_id),
                      ("WARC-IP-Address", address)]
            records.append(warc_record(
                [("WARC-Type", "request"), ("WARC-Record-ID", _record_id("request", page.url)), *common,
                 ("WARC-Concurrent-To", response_id), ("Content-Type", "application/http; msgtype=request"),
                 ("WARC-Block-Digest", _sha1(request))],
                request,
            ))
            block, payload = _http_response(page, fetched)
            records.append(warc_record(
                [("WARC-Type", "response"), ("WARC-Record-ID", response_id), *common,
                 ("Content-Type", "application/http; msgtype=response"), ("WARC-Block-Digest", _sha1(block)),
                 ("WARC-Payload-Digest", _sha1(payload))],
                block,
            ))
        path = directory / name
        path.write_bytes(b"".join(gzip.compress(record, compresslevel=6, mtime=0) for record in records))
        paths.append(path)
    return paths


def _iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the demo crawl (gzip-compressed WARC files).")
    parser.add_argument("directory", type=Path, help="folder to write the .warc.gz files into")
    parser.add_argument("--files", type=int, default=3, help="how many WARC files to write (default 3)")
    args = parser.parse_args(argv)
    for path in write_demo_crawl(args.directory, args.files):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
