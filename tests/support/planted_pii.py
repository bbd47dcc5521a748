"""Seeded generators of planted personal data and of look-alikes, placed in English and Chinese sentences.

Every generator computes its own check digits (Luhn, MOD 97-10, ISO 7064 MOD 11-2) here, independently of the code
under test, so a wrong validator cannot agree with a wrong generator.
"""

from __future__ import annotations

import datetime
import ipaddress
import random
import string
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Planted:
    """A sentence with one value planted at [start, end)."""

    text: str
    start: int
    end: int
    kind: str

    @property
    def value(self) -> str:
        return self.text[self.start : self.end]


def plant(template: str, value: str, kind: str) -> Planted:
    before, after = template.split("{}")
    return Planted(before + value + after, len(before), len(before) + len(value), kind)


# ---------------------------------------------------------------------------------------------------------------
# Check digits, written out from the standards.


def luhn_check_digit(payload: str) -> str:
    total = 0
    for position, char in enumerate(reversed(payload)):
        value = int(char)
        if position % 2 == 0:  # these become the odd positions once the check digit is appended
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def iban_check_digits(country: str, bban: str) -> str:
    numeric = "".join(str(int(char, 36)) for char in bban + country + "00")
    return f"{98 - int(numeric) % 97:02d}"


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
PROVINCES = (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53,
             54, 61, 62, 63, 64, 65, 71, 81, 82)  # fmt: skip


def id_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(char) * weight for char, weight in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def random_birth_date(rng: random.Random, first_year: int = 1930, last_year: int = 2012) -> datetime.date:
    start = datetime.date(first_year, 1, 1).toordinal()
    end = datetime.date(last_year, 12, 31).toordinal()
    return datetime.date.fromordinal(rng.randint(start, end))


def random_id_first17(rng: random.Random) -> str:
    born = random_birth_date(rng)
    return f"{rng.choice(PROVINCES)}{rng.randint(0, 9999):04d}{born:%Y%m%d}{rng.randint(0, 999):03d}"


# ---------------------------------------------------------------------------------------------------------------
# Valid values.


def digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def email(rng: random.Random) -> str:
    first = rng.choice(["zhang", "li", "wang", "john", "mary", "o.connor", "chen_wei", "jean-luc", "a", "dev"])
    local = first + rng.choice(["", ".", "_", "+news", ""]) + rng.choice(["", digits(rng, rng.randint(1, 4))])
    local = local.strip("._") or "x"
    domain = rng.choice(
        ["gmail.com", "qq.com", "163.com", "126.com", "outlook.com", "sina.com.cn", "mail.tsinghua.edu.cn",
         "company.de", "yahoo.co.jp", "foxmail.com", "proton.me", "hr.acme-group.io"]
    )  # fmt: skip
    return f"{local}@{domain}"


def cn_mobile(rng: random.Random) -> str:
    number = f"1{rng.choice('3456789')}{digits(rng, 9)}"
    form = rng.randrange(8)
    if form == 0:
        return number
    if form == 1:
        return f"+86 {number[:3]} {number[3:7]} {number[7:]}"
    if form == 2:
        return f"+86-{number[:3]}-{number[3:7]}-{number[7:]}"
    if form == 3:
        return f"+86{number}"
    if form == 4:
        return f"0086 {number}"
    if form == 5:
        return f"(+86){number}"
    if form == 6:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    return f"{number[:3]}-{number[3:7]}-{number[7:]}"


def cn_landline(rng: random.Random) -> str:
    area = rng.choice(["010", "021", "020", "022", "023", "024", "025", "027", "028", "029", "0755", "0571",
                       "0512", "0731", "0871", "0991", "0451", "0898"])  # fmt: skip
    local = f"{rng.choice('2345678')}{digits(rng, 7 if len(area) == 3 else rng.choice([6, 7]))}"
    form = rng.randrange(4)
    if form == 0:
        return f"{area}-{local}"
    if form == 1:
        return f"({area}){local}"
    if form == 2:
        return f"{area} {local[:4]} {local[4:]}" if len(local) == 8 else f"{area} {local}"
    return f"+86 {area[1:]} {local}"


def international_phone(rng: random.Random) -> str:
    form = rng.randrange(7)
    if form == 0:
        return f"+1 {rng.randint(201, 989)}-{rng.randint(200, 999)}-{digits(rng, 4)}"
    if form == 1:
        return f"+44 7{digits(rng, 3)} {digits(rng, 6)}"
    if form == 2:
        return f"+33 6 {digits(rng, 2)} {digits(rng, 2)} {digits(rng, 2)} {digits(rng, 2)}"
    if form == 3:
        return f"+81 90-{digits(rng, 4)}-{digits(rng, 4)}"
    if form == 4:
        return f"+852 {rng.choice('5679')}{digits(rng, 3)} {digits(rng, 4)}"
    if form == 5:
        return f"+886 9{digits(rng, 2)} {digits(rng, 3)} {digits(rng, 3)}"
    return f"+49 30 {digits(rng, 8)}"


def nanp_phone(rng: random.Random) -> str:
    area, exchange, line = rng.randint(201, 989), rng.randint(200, 999), digits(rng, 4)
    return rng.choice([f"({area}) {exchange}-{line}", f"{area}-{exchange}-{line}", f"{area}.{exchange}.{line}"])


def phone(rng: random.Random) -> str:
    return rng.choice([cn_mobile, cn_mobile, cn_landline, international_phone, nanp_phone])(rng)


def resident_id(rng: random.Random) -> str:
    first17 = random_id_first17(rng)
    return first17 + id_check_char(first17)


def resident_id15(rng: random.Random) -> str:
    born = random_birth_date(rng, 1930, 1999)
    return f"{rng.choice(PROVINCES)}{rng.randint(0, 9999):04d}{born:%y%m%d}{rng.randint(0, 999):03d}"


CARD_PREFIXES = {
    "visa": (["4"], 16),
    "visa13": (["4"], 13),
    "mastercard": (["51", "52", "53", "54", "55", "2221", "2500", "2720"], 16),
    "amex": (["34", "37"], 15),
    "discover": (["6011", "65"], 16),
    "jcb": (["3528", "3530", "3589"], 16),
    "unionpay": (["62"], 16),
    "unionpay19": (["62"], 19),
    "diners": (["36", "300", "305"], 14),
}


def card(rng: random.Random) -> str:
    prefixes, length = CARD_PREFIXES[rng.choice(sorted(CARD_PREFIXES))]
    payload = rng.choice(prefixes)
    payload += digits(rng, length - 1 - len(payload))
    number = payload + luhn_check_digit(payload)
    form = rng.randrange(3)
    if form == 0 or length not in (15, 16):
        return number
    separator = " " if form == 1 else "-"
    if length == 15:
        return separator.join([number[:4], number[4:10], number[10:]])
    return separator.join(number[i : i + 4] for i in range(0, 16, 4))


IBAN_FORMATS = {  # country: (BBAN pattern: n digit, a upper letter, c alnum)
    "DE": "n" * 18,
    "GB": "aaaa" + "n" * 14,
    "FR": "n" * 10 + "c" * 11 + "nn",
    "ES": "n" * 20,
    "IT": "a" + "n" * 10 + "c" * 12,
    "NL": "aaaa" + "n" * 10,
    "CH": "n" * 5 + "c" * 12,
    "BE": "n" * 12,
    "PL": "n" * 24,
    "SA": "nn" + "c" * 18,
    "AT": "n" * 16,
    "SE": "n" * 20,
}


def iban(rng: random.Random) -> str:
    country = rng.choice(sorted(IBAN_FORMATS))
    alphabet = {"n": string.digits, "a": string.ascii_uppercase, "c": string.digits + string.ascii_uppercase}
    bban = "".join(rng.choice(alphabet[kind]) for kind in IBAN_FORMATS[country])
    value = country + iban_check_digits(country, bban) + bban
    if rng.random() < 0.5:
        return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    return value


def public_ipv4(rng: random.Random) -> str:
    while True:
        address = ipaddress.IPv4Address(rng.getrandbits(32))
        single_digit_quad = all(len(part) == 1 for part in str(address).split("."))
        if address.is_global and not address.is_multicast and not single_digit_quad:
            return str(address)


def public_ipv6(rng: random.Random) -> str:
    while True:
        # Regional-registry allocations live in 2400::/12 .. 2c00::/12 and 2a00::/12.
        prefix = rng.choice([0x2400, 0x2600, 0x2800, 0x2A00, 0x2C0F, 0x2404, 0x2A03])
        address = ipaddress.IPv6Address((prefix << 112) | rng.getrandbits(112))
        if rng.random() < 0.5:  # compressible form with a run of zero groups
            address = ipaddress.IPv6Address(int(address) & ~((1 << 64) - 1) | rng.getrandbits(16))
        if address.is_global:
            return str(address)


def ip(rng: random.Random) -> str:
    return public_ipv4(rng) if rng.random() < 0.7 else public_ipv6(rng)


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def passport(rng: random.Random) -> str:
    return rng.choice([f"E{digits(rng, 8)}", f"G{digits(rng, 8)}", f"E{rng.choice('ABCDFGHJK')}{digits(rng, 7)}"])


def secret(rng: random.Random) -> str:
    alnum = string.ascii_letters + string.digits
    form = rng.randrange(5)
    if form == 0:
        return "AKIA" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    if form == 1:
        return "ghp_" + "".join(rng.choice(alnum) for _ in range(36))
    if form == 2:
        return "sk-" + "".join(rng.choice(alnum) for _ in range(48))
    if form == 3:
        return "AIza" + "".join(rng.choice(alnum + "_-") for _ in range(35))
    return "xoxb-" + "-".join(digits(rng, 12) for _ in range(2)) + "-" + "".join(rng.choice(alnum) for _ in range(24))


def qq_number(rng: random.Random) -> str:
    return str(rng.randint(10_000, 3_999_999_999))


def wechat_id(rng: random.Random) -> str:
    head = rng.choice(string.ascii_letters)
    return head + "".join(rng.choice(string.ascii_letters + string.digits + "_-") for _ in range(rng.randint(5, 15)))


# ---------------------------------------------------------------------------------------------------------------
# Sentences. "{}" is where the value goes; some templates put it right against Chinese characters.

EN_TEMPLATES = {
    "EMAIL": ["Write to {} for details.", "My email is {}.", "Contact: {}", "cc: {} (marketing)"],
    "PHONE": ["Call me at {} after six.", "Phone: {}", "You can reach the office on {}.", "Tel {}, ask for Bob."],
    "ID_NUMBER": ["Her ID card number is {}.", "ID: {} (PRC)", "Resident identity card {} was verified."],
    "CARD": ["Charge it to card {} please.", "My card number is {}.", "Paid with {} yesterday."],
    "IBAN": ["Transfer to IBAN {} by Friday.", "Account: {}", "Please wire the deposit to {}."],
    "IP": ["Login from {} was blocked.", "The server at {} stopped answering.", "client_ip={} user=42"],
    "SSN": ["Here's my SSN: {}", "Social security number {} on file.", "SSN {}."],
    "PASSPORT": ["Passport number: {}", "His passport {} expires next year."],
    "SECRET": ["export API_TOKEN_VALUE={}", "the key {} leaked on GitHub", "Authorization uses {} here"],
    "QQ": ["Add me on QQ: {}", "QQ {} for the group"],
    "WECHAT": ["WeChat: {}", "my wechat id is {}"],
}
ZH_TEMPLATES = {
    "EMAIL": ["请发邮件至{}，谢谢。", "邮箱：{}", "工作联系：{}（请注明来意）", "简历投递{}即可"],
    "PHONE": ["我的手机号是{}，有事打给我。", "联系电话：{}", "订房请拨{}。", "电话{}转人工"],
    "ID_NUMBER": ["身份证号码：{}", "他的身份证是{}，已核验。", "证件号{}"],
    "CARD": ["银行卡号{}，户名张三。", "请把钱转到卡号：{}", "信用卡{}本月到期"],
    "IBAN": ["收款账户IBAN：{}", "汇款至{}，备注订单号。"],
    "IP": ["来自{}的登录已被拦截。", "服务器地址：{}", "IP地址{}访问异常"],
    "SSN": ["美国社会安全号码(SSN)：{}"],
    "PASSPORT": ["护照号码：{}", "护照号{}，有效期十年"],
    "SECRET": ["密钥{}已泄露", "配置里的{}请勿外传"],
    "QQ": ["QQ：{}", "加我qq{}一起玩", "QQ群：{}"],
    "WECHAT": ["微信：{}", "加微信{}咨询", "微信号:{}"],
}

GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "EMAIL": email,
    "PHONE": phone,
    "ID_NUMBER": resident_id,
    "CARD": card,
    "IBAN": iban,
    "IP": ip,
    "SSN": ssn,
    "PASSPORT": passport,
    "SECRET": secret,
    "QQ": qq_number,
    "WECHAT": wechat_id,
}


def planted_values(kind: str, count: int, seed: int) -> list[Planted]:
    """`count` sentences per language, each with one valid value of `kind`."""
    rng = random.Random(f"{kind}-{seed}")
    generate = GENERATORS[kind]
    out = []
    for templates in (EN_TEMPLATES[kind], ZH_TEMPLATES[kind]):
        for _ in range(count):
            out.append(plant(rng.choice(templates), generate(rng), kind))
    return out


def planted_id15(count: int, seed: int) -> list[Planted]:
    rng = random.Random(f"id15-{seed}")
    templates = ["身份证号：{}", "旧版身份证{}已换领", "ID card no. {} (15-digit)"]
    return [plant(rng.choice(templates), resident_id15(rng), "ID_NUMBER") for _ in range(count)]


# ---------------------------------------------------------------------------------------------------------------
# Look-alikes: must not be redacted.


def order_number(rng: random.Random) -> Planted:
    year = rng.randint(2015, 2026)
    day = f"{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    value = rng.choice(
        [
            f"ORD-{year}-{digits(rng, 6)}",
            f"{day}{digits(rng, rng.choice([6, 8, 10]))}",
            f"#{day}{digits(rng, 4)}",
            f"INV-{digits(rng, 8)}",
            f"SO{digits(rng, 10)}",
        ]
    )
    template = rng.choice(["Order {} has shipped.", "订单号：{}，请查收。", "Your order number is {}.", "单号{}已发货"])
    return plant(template, value, "order")


def wrong_check_id(rng: random.Random) -> Planted:
    first17 = random_id_first17(rng)
    right = id_check_char(first17)
    value = first17 + rng.choice([char for char in "0123456789X" if char != right])
    return plant(rng.choice(["编号{}无效", "Reference {} (not an ID)", "流水号：{}"]), value, "bad-id")


def luhn_invalid_16(rng: random.Random) -> Planted:
    prefixes, _length = CARD_PREFIXES[rng.choice(["visa", "mastercard", "discover", "jcb", "unionpay"])]
    payload = rng.choice(prefixes)
    payload += digits(rng, 15 - len(payload))
    right = luhn_check_digit(payload)
    value = payload + rng.choice([d for d in string.digits if d != right])
    if rng.random() < 0.3:
        value = " ".join(value[i : i + 4] for i in range(0, 16, 4))
    return plant(rng.choice(["Tracking {} in transit.", "批次号{}", "Serial: {}"]), value, "bad-card")


def version_string(rng: random.Random) -> Planted:
    numbers = [rng.randint(0, 20), rng.randint(0, 30), rng.randint(0, 300), rng.randint(0, 99999)]
    dotted = ".".join(map(str, numbers))
    choice = rng.randrange(6)
    if choice == 0:
        return plant("Download v{} now.", dotted, "version")
    if choice == 1:
        return plant("Updated to version {} last week.", dotted, "version")
    if choice == 2:
        version = f"{rng.randint(60, 130)}.0.{rng.randint(1000, 6999)}.{rng.randint(1, 250)}"
        return plant("Chrome {} fixes the crash.", version, "version")
    if choice == 3:
        return plant("build {}", dotted, "version")
    if choice == 4:
        return plant("请升级到{}版本。", dotted, "version")
    return plant("Running {} in production.", ".".join(str(rng.randint(1, 9)) for _ in range(4)), "version")


def private_ip(rng: random.Random) -> Planted:
    network = ipaddress.ip_network(
        rng.choice(["10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12", "127.0.0.0/8", "169.254.0.0/16",
                    "100.64.0.0/10", "192.0.2.0/24", "fd00::/8", "fe80::/10", "::1/128", "2001:db8::/32"])
    )  # fmt: skip
    address = network.network_address + rng.randrange(network.num_addresses)
    return plant(rng.choice(["Router at {} rebooted.", "内网地址{}", "bind {} port 8080"]), str(address), "private-ip")


def date_or_time(rng: random.Random) -> Planted:
    day = random_birth_date(rng, 1990, 2030)
    value = rng.choice(
        [f"{day:%Y-%m-%d}", f"{day:%d/%m/%Y}", f"{day:%Y年%m月%d日}", f"{day:%d.%m.%Y}", f"{day:%Y%m%d}",
         f"{day:%Y-%m-%d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
         f"{day:%Y/%m/%d}", f"{day:%b %d, %Y}"]
    )  # fmt: skip
    return plant(rng.choice(["Posted on {}.", "日期：{}", "Updated {} by staff"]), value, "date")


def price(rng: random.Random) -> Planted:
    amount = rng.randint(1, 9_999_999)
    value = rng.choice(
        [f"${amount:,}.{rng.randint(0, 99):02d}", f"￥{amount:,}", f"¥ {amount / 100:,.2f}", f"EUR {amount:,}",
         f"{amount}元", f"{amount:,} RMB", f"共计 {amount:,} 人"]
    )  # fmt: skip
    return plant(rng.choice(["Price: {}", "价格：{}", "It costs {} now.", "总额{}"]), value, "price")


LOOKALIKES: dict[str, Callable[[random.Random], Planted]] = {
    "order": order_number,
    "bad-id": wrong_check_id,
    "bad-card": luhn_invalid_16,
    "version": version_string,
    "private-ip": private_ip,
    "date": date_or_time,
    "price": price,
}


def lookalikes(kind: str, count: int, seed: int) -> list[Planted]:
    rng = random.Random(f"lookalike-{kind}-{seed}")
    return [LOOKALIKES[kind](rng) for _ in range(count)]
