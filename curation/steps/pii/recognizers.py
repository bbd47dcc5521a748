"""Structured personal data: candidates found by regular expressions, confirmed by validators.

Every recogniser yields `(type, start, end)` with offsets into the text as given. Matching runs on a folded copy
of the text (`fold_text`): fullwidth ASCII (`１３８`, `＠`, `（`), ideographic and no-break spaces and the dash
variants are mapped one character to one character, so offsets into the folded copy are offsets into the original
and Chinese text written with fullwidth digits is matched like ASCII.

Boundaries are written as ASCII look-arounds (`(?<![0-9A-Za-z])`), never `\\b`: in Chinese text a number follows a
Chinese character directly (`电话13812345678`), and `\\b` sees no boundary between two word characters. Every
pattern starts with a negative look-behind on its own character class and uses bounded repetition, so a scan over a
10 MB run of digits or letters is linear: a match can only start where a run starts.

Validators and what they cut (measured with the planted look-alikes in tests/curation/steps/pii):
- CARD: 12-19 digits, optionally grouped by single spaces or dashes, Luhn-valid (ISO/IEC 7812-1 annex B) and
  starting with an issuer prefix of a known brand at a length that brand issues. Luhn alone passes 10% of random
  numbers; the brand table cuts order numbers and timestamps that happen to pass it. An 18-digit number with a
  province code and a birth date where a resident ID has them is read as a (mistyped) ID, never as a card: five
  province codes (35, 36, 62, 65, 81) are also card prefixes.
- IBAN: country code with the registry length of that country (SWIFT IBAN registry), check digits not 00, 01 or
  99, and the ISO 7064 MOD 97-10 remainder 1. Printed IBANs in groups of four are read across single spaces.
- ID_NUMBER (mainland China resident identity number, GB 11643-1999): 18 characters with a province code
  (11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81, 82), a real birth date between 1880-01-01 and today, and the
  ISO 7064 MOD 11-2 check character (weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, the sum mod 11 indexes
  "10X98765432"). The legacy 15-digit form (province, YYMMDD birth date in the 1900s, sequence, no check digit)
  has nothing to check but the date, so it is accepted only near an identity-card word (身份证, ID card, ...).
- PHONE: mainland mobiles (1[3-9] + 9 digits, optionally +86/0086 and 3-4-4 spaces or dashes), mainland landlines
  ((0AA)/0AAA area code and a 7-8 digit local number; unseparated ones only near a phone word), numbers with a
  `+` country code whose digit count the country allows (Google's libphonenumber metadata through
  `phonenumberslite`, offline; the longest allowed prefix of a run of digit groups wins, so a year after a
  number is not swallowed), North American 3-3-4 numbers, and any 7-15 digit group run near a phone word
  (phone, tel, mobile, fax, 电话, 手机, 联系 ...) unless an order/account word is nearer or it reads as a date.
- IP: IPv4 and IPv6 parsed by `ipaddress` and kept only when globally routable unicast: private, loopback,
  link-local, shared (100.64/10), multicast, reserved and the documentation ranges (192.0.2/24, 198.51.100/24,
  203.0.113/24, 2001:db8::/32) are not anyone's address. Dotted quads whose four parts are single digits
  (1.2.3.4) and quads after a version word (v, version, build, release, 版本 ...) are version strings.
- SSN: US social security numbers, area not 000, 666 or 900-999, group not 00, serial not 0000. The dashed
  3-2-4 form stands alone; spaced or unseparated nine digits need an SSN word nearby (they are QQ numbers,
  order numbers ...).
- PASSPORT: People's Republic of China passports: E or G and 8 digits, E plus a letter and 7 digits (the 2019
  series), D/P/S (diplomatic, public affairs, service) and 14/15 + 7 digits. All forms need a passport word
  (护照, 護照, passport) within 24 characters: E/G + 8 digits is also the shape of part numbers and tickets.
- SECRET: AWS access key ids, GitHub, Slack, Stripe, OpenAI and Anthropic keys, Google API keys, JWTs, PEM
  private keys, `Bearer` tokens, passwords in `scheme://user:password@host` URLs, and the values of credential
  parameters in URLs and `key = value` assignments (token, access_token, api_key, secret, password, ...).
  Only the secret value is a span, so `?token=<SECRET>` keeps the URL readable.
- QQ and WECHAT: numbers or WeChat ids right after QQ / 微信 / WeChat / vx words (and lists of them); the
  bare `wxid_...` form stands alone.
- EMAIL: RFC 5322's common subset; addresses at the reserved example domains and TLDs (RFC 2606, RFC 6761) and
  file names such as `logo@2x.png` are not addresses.

Gates. A pattern that starts with a look-behind makes `re` attempt a match at every position of the text (tens of
microseconds per 2 KB text, per pattern); most texts hold nothing that could match. So before a costly pattern runs,
a gate checks something every match must contain: the pattern's core without its leading look-behinds and optional
prefixes (which `re` finds by a fast scan for its first character), a literal such as `://`, or a keyword searched
in the lower-cased text. A text that fails the gate cannot match the pattern, so the hits are the same with and
without gates (tested on the planted sets). Lower-casing stands in for `re.IGNORECASE` only where a text holds none
of the four characters that `re` matches to an ASCII letter case-insensitively but `str.lower` does not turn into
it (İ, ı, ſ and the Kelvin sign K); a text with one of them skips those gates.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections.abc import Callable, Collection, Iterator

import phonenumbers

EMAIL = "EMAIL"
PHONE = "PHONE"
ID_NUMBER = "ID_NUMBER"
PASSPORT = "PASSPORT"
SSN = "SSN"
CARD = "CARD"
IBAN = "IBAN"
IP = "IP"
SECRET = "SECRET"
QQ = "QQ"
WECHAT = "WECHAT"
PERSON = "PERSON"

STRUCTURED_TYPES: tuple[str, ...] = (EMAIL, PHONE, ID_NUMBER, PASSPORT, SSN, CARD, IBAN, IP, SECRET, QQ, WECHAT)
ALL_TYPES: tuple[str, ...] = (*STRUCTURED_TYPES, PERSON)

Hit = tuple[str, int, int]

# ---------------------------------------------------------------------------------------------------------------
# Folding: one character in, one character out, so offsets survive.

_FOLD_TABLE: dict[int, int] = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}  # fullwidth ASCII
_FOLD_TABLE.update({code: ord(" ") for code in (0x00A0, 0x2007, 0x2009, 0x200A, 0x202F, 0x205F, 0x3000)})
_FOLD_TABLE.update({code: ord("-") for code in (0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xFE63)})


def fold_text(text: str) -> str:
    """Map fullwidth ASCII, unusual spaces and dashes to ASCII, one character for one character."""
    return text.translate(_FOLD_TABLE)


def _window_before(text: str, start: int, width: int) -> str:
    return text[max(0, start - width) : start].lower()


def _window_after(text: str, end: int, width: int) -> str:
    return text[end : end + width].lower()


# Every non-ASCII character that `re.IGNORECASE` matches to an ASCII letter (computed over all of Unicode; tested).
_IGNORECASE_ODDITIES = ("\u0130", "\u0131", "\u017f", "\u212a")


def _may_match_ignorecase(text: str, gate: re.Pattern[str]) -> bool:
    """Whether `gate` (lower-case, no flags) finds something in the lower-cased text, or the text has an oddity."""
    if any(char in text for char in _IGNORECASE_ODDITIES):
        return True
    return gate.search(text.lower()) is not None


def _digits(value: str) -> str:
    return "".join(ch for ch in value if "0" <= ch <= "9")


# ---------------------------------------------------------------------------------------------------------------
# Validators (public: tests and annotation use them directly).


def luhn_valid(digits: str) -> bool:
    """Return whether a string of ASCII digits passes the Luhn (mod 10) check."""
    if not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


# SWIFT IBAN registry: the length of a full IBAN per country.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


def iban_valid(iban: str) -> bool:
    """Return whether `iban` (no spaces, any case) has its country's length and the MOD 97-10 remainder 1."""
    iban = iban.upper()
    if not iban.isascii() or not iban.isalnum() or len(iban) < 15:
        return False
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is None or len(iban) != expected or not iban[2:4].isdigit() or iban[2:4] in ("00", "01", "99"):
        return False
    rearranged = iban[4:] + iban[:4]
    remainder = 0
    for char in rearranged:
        # Letters count as two digits: A = 10 ... Z = 35.
        value = ord(char) - 48 if char.isdigit() else ord(char) - 55
        remainder = (remainder * (100 if value > 9 else 10) + value) % 97
    return remainder == 1


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
CN_PROVINCE_CODES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54,
     61, 62, 63, 64, 65, 71, 81, 82}
)  # fmt: skip
_EARLIEST_BIRTH = datetime.date(1880, 1, 1)  # IDs were first issued in 1984, to people born from the 1880s


def cn_id_check_char(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character of the first 17 digits of a resident identity number."""
    total = sum((ord(char) - 48) * weight for char, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _birth_date_valid(year: int, month: int, day: int) -> bool:
    try:
        born = datetime.date(year, month, day)
    except ValueError:
        return False
    return _EARLIEST_BIRTH <= born <= datetime.date.today()


def cn_resident_id_valid(value: str) -> bool:
    """Return whether `value` is an 18-character resident identity number: province, birth date, check char."""
    value = value.upper()
    if len(value) != 18 or not value.isascii() or not value[:17].isdigit():
        return False
    if int(value[:2]) not in CN_PROVINCE_CODES:
        return False
    if not _birth_date_valid(int(value[6:10]), int(value[10:12]), int(value[12:14])):
        return False
    return cn_id_check_char(value[:17]) == value[17]


def cn_resident_id15_valid(value: str) -> bool:
    """Return whether `value` is a legacy 15-digit identity number: province and a YYMMDD birth date (19YY)."""
    if len(value) != 15 or not value.isascii() or not value.isdigit():
        return False
    if int(value[:2]) not in CN_PROVINCE_CODES:
        return False
    return _birth_date_valid(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12]))


def ssn_valid(digits: str) -> bool:
    """Return whether nine digits are an assignable US social security number."""
    if len(digits) != 9 or not digits.isascii() or not digits.isdigit():
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


# Issuer prefixes (inclusive ranges over the first N digits) and the lengths each brand issues.
_CARD_BRANDS: tuple[tuple[str, tuple[tuple[int, int, int], ...], frozenset[int]], ...] = (
    ("visa", ((1, 4, 4),), frozenset({13, 16, 19})),
    ("mastercard", ((2, 51, 55), (4, 2221, 2720)), frozenset({16})),
    ("amex", ((2, 34, 34), (2, 37, 37)), frozenset({15})),
    ("discover", ((4, 6011, 6011), (3, 644, 649), (2, 65, 65), (6, 622126, 622925)), frozenset(range(16, 20))),
    ("jcb", ((2, 35, 35),), frozenset(range(16, 20))),  # JCB holds 3528-3589; issuers print 35xx
    ("jcb15", ((4, 1800, 1800), (4, 2131, 2131)), frozenset({15})),
    ("diners", ((3, 300, 305), (3, 309, 309), (2, 36, 36), (2, 38, 39)), frozenset(range(14, 20))),
    ("unionpay", ((2, 62, 62), (2, 81, 81)), frozenset(range(16, 20))),
    ("mir", ((4, 2200, 2204),), frozenset(range(16, 20))),
    ("rupay", ((2, 60, 60), (3, 508, 508), (3, 652, 653)), frozenset({16})),
    ("maestro", ((4, 5018, 5018), (4, 5020, 5020), (4, 5038, 5038), (2, 56, 58), (4, 6304, 6304), (3, 639, 639),
                 (2, 67, 67)), frozenset(range(12, 20))),
)  # fmt: skip


def card_brand(digits: str) -> str | None:
    """Return the brand whose issuer prefix and length match `digits`, or None."""
    for brand, prefixes, lengths in _CARD_BRANDS:
        if len(digits) not in lengths:
            continue
        for width, low, high in prefixes:
            if low <= int(digits[:width]) <= high:
                return brand
    return None


def card_valid(digits: str) -> bool:
    """Return whether `digits` is a payment card number: a known brand's prefix and length, and Luhn-valid."""
    return 12 <= len(digits) <= 19 and card_brand(digits) is not None and luhn_valid(digits)


def ip_is_personal(value: str) -> bool:
    """Return whether `value` parses as a globally routable unicast IPv4 or IPv6 address."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return ip_is_personal(str(address.ipv4_mapped))
        # Global unicast is 2000::/3; everything else is reserved, local or multicast.
        if not (0x2000 <= (int(address) >> 112) <= 0x3FFF):
            return False
    return address.is_global and not address.is_multicast


# ---------------------------------------------------------------------------------------------------------------
# Context words. Windows are lower-cased slices of the folded text.

_PHONE_WORDS = re.compile(
    r"phone|\btel\b|\btel\.|telephone|mobile|\bmob\b|\bcell|\bfax\b|\bcall|contact|whatsapp|\bsms\b|hotline"
    r"|电话|電話|手机|手機|联系|聯繫|聯絡|联络|連絡|連繫|热线|熱線|传真|傳真|座机|座機|致电|致電|拨打|撥打|来电|來電"
    r"|代表号|代表號|客服|咨询|諮詢|预订|預訂|号码|號碼|分机|分機|办公室|辦公室"
)
_PHONE_AFTER_WORDS = re.compile(r"^\W{0,3}(?:office|fax|mobile|cell|home|work|phone|tel|电话|電話|手机|手機|传真|傳真)")
_NOT_PHONE_WORDS = re.compile(
    r"order|invoice|tracking|account|acct|isbn|issn|serial|patent|ticket|version|\bref\b|reference|zip|postcode"
    r"|订单|訂單|单号|單號|编号|編號|账号|賬號|帐号|帳號|卡号|卡號|身份证|身份證|邮编|郵編|证件|證件|护照|護照|qq|微信"
)
_ID_WORDS = re.compile(
    r"身份证|身份證|证件|證件|公民身份|身份号|身份號|id card|identity|id no|id number|\bid\b|\bnric\b"
)
_SSN_WORDS = re.compile(r"\bssn\b|social security|\bss#|\bsocial sec")
_PASSPORT_WORDS = re.compile(r"护照|護照|passport|旅行证件|旅行證件")
_VERSION_WORDS = re.compile(
    r"(?:\bv|\bver|\bversion|release|\bbuild|firmware|update|upgrade|kernel|patch|chrome|firefox|android|ios"
    r"|windows|版本|固件|升级|升級|更新)(?:到|至|为|為)?\W{0,3}$"
)
_VERSION_AFTER_WORDS = re.compile(r"^\W{0,2}(?:版本|版|version|release|build)")

# ---------------------------------------------------------------------------------------------------------------
# Recognisers. Each takes the folded text and yields hits.

_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9_%])[A-Za-z0-9_][A-Za-z0-9._%+\-]{0,63}"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,8}([A-Za-z]{2,24}))(?![A-Za-z\-]|[0-9]+\.?[A-Za-z])"
)
_RESERVED_EMAIL_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
_RESERVED_TLDS = frozenset({"example", "test", "invalid", "localhost", "local"})
_FILE_TLDS = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "css", "js", "json", "pdf"})
# In Chinese text an address often runs into the next Latin word ("abc@163.comQQ"): an unknown top-level domain
# that starts with one of these is cut after it.
_COMMON_TLDS = frozenset(
    {"com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "cn", "hk", "tw", "mo", "jp", "kr", "sg", "uk",
     "de", "fr", "ru", "us", "ca", "au", "io", "me", "co", "cc", "tv", "in", "it", "es", "nl", "se", "ch", "eu"}
)  # fmt: skip


def find_emails(text: str) -> Iterator[Hit]:
    if "@" not in text:
        return
    for match in _EMAIL_RE.finditer(text):
        domain, tld = match.group(1).lower(), match.group(2).lower()
        end = match.end()
        if tld not in _COMMON_TLDS and len(tld) > 3:
            known = [len(t) for t in _COMMON_TLDS if tld.startswith(t)]
            if known:
                cut = len(tld) - max(known)
                domain, tld, end = domain[: len(domain) - cut], tld[: max(known)], end - cut
        if domain in _RESERVED_EMAIL_DOMAINS or tld in _RESERVED_TLDS or tld in _FILE_TLDS:
            continue
        yield EMAIL, match.start(), end


# Mainland mobile: optional +86 / 0086 / (+86), then 1[3-9]x xxxx xxxx with optional single separators.
_CN_MOBILE_RE = re.compile(
    r"(?<![0-9+])(?<![0-9][.,])(?<![0-9][ \-])(?:(?:\+|00)86[ \-]?|\(\+?86\)[ \-]?)?1[3-9][0-9](?:[ \-]?[0-9]{4}){2}"
    r"(?![0-9]|[.,][0-9])"
)
# Mainland landline: (0AA) / 0AAA area code, optional separator, 7-8 digit local number, optional extension.
_CN_LANDLINE_RE = re.compile(
    r"(?<![0-9+])(?<![0-9][.,])(?<![0-9][ \-])(?:(?:\+|00)86[ \-]?)?(\(0?[1-9][0-9]{1,2}\)|0[1-9][0-9]{1,2})([ \-]?)"
    r"([2-9][0-9]{2,3}[ \-]?[0-9]{4})(?:[ \-]?(?:转|轉|ext\.?|x|#)[ ]?[0-9]{1,5})?(?![0-9]|[.,][0-9])"
)
# A `+` country code followed by digit groups; validated and trimmed with libphonenumber's lengths.
_INTL_RE = re.compile(r"(?<![0-9+])\+[ ]?\(?[1-9][0-9 ().\-]{5,26}[0-9]")
# North American 3-3-4 with separators, optional 1 / +1 / 001 and extension.
_NANP_RE = re.compile(
    r"(?<![0-9A-Za-z+\-.])(?<![0-9][ \-.])(?:(?:1|001)[ \-.])?"
    r"(?:\([2-9][0-9]{2}\)[ ]?|[2-9][0-9]{2}[\-. ])[0-9]{3}[\-. ][0-9]{4}"
    r"(?:[ ]?(?:x|ext\.?)[ ]?[0-9]{1,5})?(?![0-9A-Za-z]|[\-.][0-9])"
)
# Digit groups that read as a phone number only next to a phone word.
_GENERIC_PHONE_RE = re.compile(
    r"(?<![0-9A-Za-z+\-./=_])(?<![0-9][ \-.])\(?[0-9][0-9 ()\-.]{5,22}[0-9](?:[ ]?(?:x|ext\.?)[ ]?[0-9]{1,5})?"
)
# Gates (see the module docstring): the cores of the patterns above, without look-behinds and optional prefixes.
_CN_MOBILE_GATE = re.compile(r"1[3-9][0-9](?:[ \-]?[0-9]{4}){2}")
_CN_LANDLINE_GATE = re.compile(r"(?:\(0?[1-9][0-9]{1,2}\)|0[1-9][0-9]{1,2})[ \-]?[2-9][0-9]{2,3}[ \-]?[0-9]{4}")
_GENERIC_PHONE_GATE = re.compile(r"[0-9][0-9 ()\-.]{5,22}[0-9]")
_DATE_LIKE_RE = re.compile(
    r"^(?:(?:19|20)[0-9]{2}[\-./ ][01]?[0-9][\-./ ][0-3]?[0-9]|[0-3]?[0-9][\-./ ][01]?[0-9][\-./ ](?:19|20)?[0-9]{2})$"
)
_BAD_GROUPING_RE = re.compile(r"[ .\-]{2}|\.\.|\(\)|[^0-9 ()\-.xext]")


def _phone_context(text: str, start: int, end: int) -> bool:
    before = _window_before(text, start, 28)
    positive = [m.end() for m in _PHONE_WORDS.finditer(before)]
    if not positive:
        return bool(_PHONE_AFTER_WORDS.match(_window_after(text, end, 12)))
    negative = [m.end() for m in _NOT_PHONE_WORDS.finditer(before)]
    return not negative or max(positive) >= max(negative)


def _ascii_letter_at(text: str, position: int) -> bool:
    return 0 <= position < len(text) and text[position].isascii() and text[position].isalpha()


def _trunk_grouped(value: str) -> bool:
    """A national number written with its trunk 0 in three or more groups (079 2718 1155, 0490 75 40 81)."""
    separators = {char for char in value if char in " -."}
    if len(separators) != 1 or not value.startswith("0"):
        return False
    groups = value.split(separators.pop())
    return len(groups) >= 3 and all(len(g) >= 2 and g.isdigit() for g in groups) and 9 <= len(_digits(value)) <= 12


def _intl_hit(text: str, match: re.Match[str]) -> Hit | None:
    run = match.group()
    # Cut the run at each separator, longest first: the longest prefix with a length the country allows wins.
    cuts = [len(run)] + [i for i in range(len(run) - 1, 0, -1) if run[i] in " -." and run[i - 1].isdigit()]
    for cut in cuts:
        candidate = run[:cut].rstrip(" -.(")
        digit_count = len(_digits(candidate))
        if digit_count < 8 or digit_count > 15 or candidate.count("(") != candidate.count(")"):
            continue
        try:
            number = phonenumbers.parse(candidate, None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return PHONE, match.start(), match.start() + len(candidate)
    return None


def find_phones(text: str) -> Iterator[Hit]:
    mobiles = _CN_MOBILE_RE.finditer(text) if _CN_MOBILE_GATE.search(text) else ()
    for match in mobiles:
        # Chinese text runs a number into Latin words ("Tel13812345678Email"); letters on both sides read as an id.
        if not (_ascii_letter_at(text, match.start() - 1) and _ascii_letter_at(text, match.end())):
            yield PHONE, match.start(), match.end()
    landlines = _CN_LANDLINE_RE.finditer(text) if _CN_LANDLINE_GATE.search(text) else ()
    for match in landlines:
        area, separator, local = match.group(1), match.group(2), match.group(3)
        area_digits = _digits(area)
        if not area_digits.startswith("0"):
            area_digits = "0" + area_digits
        # Beijing (010) and the 02X cities have three-digit area codes; every other area code has four digits.
        if len(area_digits) != (3 if area_digits[1] in "12" else 4):
            continue
        if len(_digits(local)) not in (7, 8):
            continue
        if not separator and not area.startswith("(") and not _phone_context(text, match.start(), match.end()):
            continue
        yield PHONE, match.start(), match.end()
    if "+" in text:
        for match in _INTL_RE.finditer(text):
            hit = _intl_hit(text, match)
            if hit is not None:
                yield hit
    for match in _NANP_RE.finditer(text):
        yield PHONE, match.start(), match.end()
    generic = _GENERIC_PHONE_RE.finditer(text) if _GENERIC_PHONE_GATE.search(text) else ()
    for match in generic:
        value = match.group().rstrip(" -.")
        value = value.rstrip(")") if value.count(")") > value.count("(") else value
        digit_count = len(_digits(value))
        if digit_count < 7 or digit_count > 15 or _BAD_GROUPING_RE.search(value.lower().replace("ext", "")):
            continue
        if _DATE_LIKE_RE.match(value) or value.count("(") != value.count(")"):
            continue
        parts = value.split(".")
        if len(parts) == 4 and all(part.isdigit() and len(part) <= 3 for part in parts):
            continue  # a dotted quad: an IP address or a version, never a phone
        if sum(len(group) == 1 for group in re.split(r"[^0-9]+", value)) > 1:
            continue  # scores and ranges ("6-7 (3-7) 6-3"): phone numbers have at most one one-digit group
        start = match.start()
        if _trunk_grouped(value) or _phone_context(text, start, start + len(value)):
            yield PHONE, start, start + len(value)


_IPV4_RE = re.compile(r"(?<![0-9A-Za-z.\-])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9A-Za-z]|\.[0-9])")
_IPV6_RE = re.compile(
    r"(?<![0-9A-Za-z:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,8}(?:\.[0-9]{1,3}){0,3}(?![0-9A-Za-z:])"
)
_IPV6_GATE = re.compile(r":[0-9A-Fa-f]{0,4}:")


def find_ips(text: str) -> Iterator[Hit]:
    if "." in text:
        for match in _IPV4_RE.finditer(text):
            value = match.group()
            if all(len(part) == 1 for part in value.split(".")):
                continue  # 1.2.3.4: a version string (and no address of a person)
            if _VERSION_WORDS.search(_window_before(text, match.start(), 16)):
                continue
            if _VERSION_AFTER_WORDS.match(_window_after(text, match.end(), 10)):
                continue
            if ip_is_personal(value):
                yield IP, match.start(), match.end()
    if ":" in text and _IPV6_GATE.search(text):
        for match in _IPV6_RE.finditer(text):
            value, start, end = match.group(), match.start(), match.end()
            # "地址：2400:..." folds to "地址:2400:...": a single colon at either end is punctuation.
            if value.startswith(":") and not value.startswith("::"):
                value, start = value[1:], start + 1
            if value.endswith(":") and not value.endswith("::"):
                value, end = value[:-1], end - 1
            if value.count(":") >= 2 and ip_is_personal(value):
                yield IP, start, end


def _shaped_like_resident_id(digits: str) -> bool:
    """18 digits with a province code and a birth date: an identity number (perhaps mistyped), not a card."""
    return (
        len(digits) == 18
        and int(digits[:2]) in CN_PROVINCE_CODES
        and _birth_date_valid(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    )


_CARD_RE = re.compile(r"(?<![0-9A-Za-z\-.,])[0-9](?:[0-9]|[ \-](?=[0-9])){11,22}(?![0-9A-Za-z]|[.,][0-9])")


def find_cards(text: str) -> Iterator[Hit]:
    for match in _CARD_RE.finditer(text):
        run = match.group()
        # A run may carry trailing digit groups (a date, an amount): try the whole run, then shorter group prefixes.
        ends = [len(run)] + [i for i in range(len(run) - 1, 0, -1) if run[i] in " -"]
        for end in ends:
            candidate = run[:end]
            groups = re.split(r"[ \-]", candidate)
            if len(groups) > 1 and (len(groups) > 5 or min(len(group) for group in groups) < 3):
                continue  # cards are printed in groups of 4 (4-6-5 / 4-6-4 for Amex and Diners)
            number = "".join(groups)
            if card_valid(number) and not _shaped_like_resident_id(number):
                yield CARD, match.start(), match.start() + end
                break


_IBAN_START_RE = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2}|[a-z]{2})[0-9]{2}(?=[ ]?[A-Za-z0-9])")


def find_ibans(text: str) -> Iterator[Hit]:
    for match in _IBAN_START_RE.finditer(text):
        country = match.group(1).upper()
        length = IBAN_LENGTHS.get(country)
        if length is None:
            continue
        lower = match.group(1).islower()
        chars = [country, match.group()[2:4]]
        count, position = 4, match.end()
        while count < length and position < len(text):
            char = text[position]
            if char == " " and position + 1 < len(text) and text[position + 1].isalnum() and text[position - 1] != " ":
                position += 1
                continue
            if not (char.isascii() and char.isalnum()) or (char.isalpha() and char.islower() != lower):
                break
            chars.append(char)
            count += 1
            position += 1
        if count != length or (position < len(text) and text[position].isascii() and text[position].isalnum()):
            continue
        if iban_valid("".join(chars)):
            yield IBAN, match.start(), position


_ID18_RE = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{5}[ ]?(?:18|19|20)[0-9]{6}[ ]?[0-9]{3}[0-9Xx](?![0-9A-Za-z])")
_ID15_RE = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{14}(?![0-9A-Za-z])")
_ID18_GATE = re.compile(r"[1-9][0-9]{5}[ ]?(?:18|19|20)[0-9]{6}[ ]?[0-9]{3}[0-9Xx]")
_ID15_GATE = re.compile(r"[1-9][0-9]{14}")


def find_resident_ids(text: str) -> Iterator[Hit]:
    for match in _ID18_RE.finditer(text) if _ID18_GATE.search(text) else ():
        if cn_resident_id_valid(match.group().replace(" ", "")):
            yield ID_NUMBER, match.start(), match.end()
    for match in _ID15_RE.finditer(text) if _ID15_GATE.search(text) else ():
        if cn_resident_id15_valid(match.group()) and _ID_WORDS.search(_window_before(text, match.start(), 24)):
            yield ID_NUMBER, match.start(), match.end()


_PASSPORT_RE = re.compile(
    r"(?<![0-9A-Za-z])(?:[EG][0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|[DPS]E?[0-9]{7}|1[45][0-9]{7})(?![0-9A-Za-z])"
)


def find_passports(text: str) -> Iterator[Hit]:
    for match in _PASSPORT_RE.finditer(text):
        if _PASSPORT_WORDS.search(_window_before(text, match.start(), 24)):
            yield PASSPORT, match.start(), match.end()


_SSN_RE = re.compile(r"(?<![0-9A-Za-z\-])([0-9]{3})([\- ]?)([0-9]{2})\2([0-9]{4})(?![0-9A-Za-z]|-[0-9])")


def find_ssns(text: str) -> Iterator[Hit]:
    for match in _SSN_RE.finditer(text):
        if not ssn_valid(match.group(1) + match.group(3) + match.group(4)):
            continue
        if match.group(2) != "-" and not _SSN_WORDS.search(_window_before(text, match.start(), 32)):
            continue
        yield SSN, match.start(), match.end()


# Whole-match secrets: the shape itself says what it is.
_SECRET_SHAPES_RE = re.compile(
    r"(?<![A-Za-z0-9_\-])(?:"
    r"(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[0-9A-Z]{16}"  # AWS access key id
    r"|gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255}"  # GitHub
    r"|xox[abposr]-[A-Za-z0-9\-]{10,250}"  # Slack
    r"|(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,247}"  # Stripe
    r"|sk-(?:proj-|ant-(?:api03-)?|svcacct-)?[A-Za-z0-9_\-]{20,200}"  # OpenAI, Anthropic
    r"|AIza[0-9A-Za-z_\-]{35}"  # Google API key
    r"|eyJ[A-Za-z0-9_\-]{8,2000}\.eyJ[A-Za-z0-9_\-]{8,4000}\.[A-Za-z0-9_\-]{16,1000}"  # JWT (header.payload.sig)
    r"|wxid_[a-z0-9]{8,24}"  # placeholder, reclassified as WECHAT below
    r")(?![A-Za-z0-9_\-])"
)
_PEM_BEGIN_RE = re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----")
_PEM_END_RE = re.compile(r"-----END (?:[A-Z]+ )*PRIVATE KEY-----")
_BEARER_RE = re.compile(r"(?i:\bbearer)[ ]+([A-Za-z0-9._~+/\-]{20,2048}=*)")
_URL_PASSWORD_RE = re.compile(
    r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{1,15}://[A-Za-z0-9._~%!$&'*+;=\-]{1,64}:([A-Za-z0-9._~%!$&'*+;=\-]{1,128})@"
)
_CREDENTIAL_PARAM = (
    r"access_token|refresh_token|id_token|auth_token|api_key|apikey|api-key|x-api-key|client_secret|secret_key"
    r"|secret|token|password|passwd|pwd|private_key|session_id|sessionid|signature|sig"
)
_URL_PARAM_RE = re.compile(rf"[?&;#](?i:{_CREDENTIAL_PARAM}|key)=([^&;#\s\"'<>]{{6,2048}})")
_ASSIGNMENT_RE = re.compile(
    rf"(?<![A-Za-z0-9_])(?i:(?:aws_)?(?:{_CREDENTIAL_PARAM}))[\"']?[ ]{{0,3}}(?:=|:)[ ]{{0,3}}[\"']?"
    r"([A-Za-z0-9_\-./+=!@$%^*~]{8,512})"
)
# Gates: every credential name above ends with one of these words, followed by what _ASSIGNMENT_RE requires.
_ASSIGNMENT_GATE = re.compile(r"(?:token|key|secret|password|passwd|pwd|session_?id|signature|sig)[\"']?[ ]{0,3}[=:]")
_BEARER_GATE = re.compile(r"bearer")
_PLACEHOLDER_VALUE_RE = re.compile(r"^(?:[<{$%\[]|x{4,}|\*{3,})|^(?:none|null|true|false|changeme|password)$", re.I)


def find_secrets(text: str) -> Iterator[Hit]:
    for match in _SECRET_SHAPES_RE.finditer(text):
        kind = WECHAT if match.group().startswith("wxid_") else SECRET
        yield kind, match.start(), match.end()
    if "-----BEGIN" in text:
        for begin in _PEM_BEGIN_RE.finditer(text):
            end = _PEM_END_RE.search(text, begin.end(), begin.end() + 20_000)
            if end is not None:
                yield SECRET, begin.start(), end.end()
    patterns = [_URL_PARAM_RE]
    if _may_match_ignorecase(text, _BEARER_GATE):
        patterns.append(_BEARER_RE)
    if "://" in text:
        patterns.append(_URL_PASSWORD_RE)
    if _may_match_ignorecase(text, _ASSIGNMENT_GATE):
        patterns.append(_ASSIGNMENT_RE)
    for pattern in patterns:
        for match in pattern.finditer(text):
            value = match.group(1)
            if _PLACEHOLDER_VALUE_RE.search(value):
                continue
            yield SECRET, match.start(1), match.end(1)


_QQ_RE = re.compile(
    r"(?<![A-Za-z@.])(?:(?i:qq)|扣扣|企鹅号|企鵝號)(?:号码|號碼|号|號|群号|群號|群|交流群)?[^0-9\n]{0,6}?"
    r"(?<![0-9])([1-9][0-9]{4,11})(?![0-9@])"
)
_WECHAT_RE = re.compile(
    r"(?:微信|威信|薇信|v信|V信|(?<![A-Za-z])(?i:wechat|weixin|vx|wx)(?![A-Za-z]))"
    r"((?:号|號|账号|帳號|[ ]?(?i:id)(?=[ ]*[:：=]|[ ]))?[ ]{0,2}[:：=]?[ ]{0,2}(?:是|为|為|(?i:is)(?=[ ]))?)[ ]{0,2}"
    r"([A-Za-z][A-Za-z0-9_\-]{5,19}|\+?[0-9][0-9\-]{4,14}[0-9])(?![A-Za-z0-9_\-@])"
)
_QQ_GATE = re.compile(r"qq|扣扣|企鹅号|企鵝號")
_WECHAT_GATE = re.compile(r"微信|威信|薇信|v信|wechat|weixin|vx|wx")
_LIST_CONTINUATION_RE = re.compile(
    r"[ ]{0,2}[、,，/或及和][ ]{0,2}([1-9][0-9]{4,11}|[A-Za-z][A-Za-z0-9_\-]{5,19})(?![0-9A-Za-z@])"
)


def _continuations(text: str, end: int, kind: str, numeric_only: bool) -> Iterator[Hit]:
    while True:
        more = _LIST_CONTINUATION_RE.match(text, end)
        if more is None or (numeric_only and not more.group(1).isdigit()):
            return
        yield kind, more.start(1), more.end(1)
        end = more.end()


def find_qq(text: str) -> Iterator[Hit]:
    if not _may_match_ignorecase(text, _QQ_GATE):
        return
    for match in _QQ_RE.finditer(text):
        yield QQ, match.start(1), match.end(1)
        yield from _continuations(text, match.end(), QQ, numeric_only=True)


def find_wechat(text: str) -> Iterator[Hit]:
    if not _may_match_ignorecase(text, _WECHAT_GATE):
        return
    for match in _WECHAT_RE.finditer(text):
        keyword_ascii = match.group()[0].isascii()
        cue, value = match.group(1).strip(), match.group(2)
        # "WeChat Pay", "WeChat official account": an English keyword with a plain word after it is no id.
        if keyword_ascii and not cue and not any(char.isdigit() or char == "_" for char in value):
            continue
        yield WECHAT, match.start(2), match.end(2)
        yield from _continuations(text, match.end(), WECHAT, numeric_only=False)


RECOGNIZERS: dict[str, Callable[[str], Iterator[Hit]]] = {
    EMAIL: find_emails,
    PHONE: find_phones,
    ID_NUMBER: find_resident_ids,
    PASSPORT: find_passports,
    SSN: find_ssns,
    CARD: find_cards,
    IBAN: find_ibans,
    IP: find_ips,
    SECRET: find_secrets,
    QQ: find_qq,
    WECHAT: find_wechat,
}


def find_structured(text: str, types: Collection[str] = STRUCTURED_TYPES) -> list[Hit]:
    """Return every structured hit in `text` of the given types, overlapping hits included, in no set order."""
    folded = fold_text(text)
    wanted = set(types)
    hits: list[Hit] = []
    for kind, recognizer in RECOGNIZERS.items():
        # The secret recogniser also finds `wxid_` WeChat ids; it runs when either type is wanted.
        if kind in wanted or (kind == SECRET and WECHAT in wanted):
            hits.extend(hit for hit in recognizer(folded) if hit[0] in wanted)
    return hits
