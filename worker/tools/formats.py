"""String `format`s checked exactly as the page checks them (ajv-formats 3.0.1, "full" mode).

A tool argument is validated twice: by the page (Ajv with ajv-formats) for frontend tools, and by the
worker before any tool runs. Both must accept and refuse the same values, so each checker here is a
port of ajv-formats' definition (`node_modules/ajv-formats/dist/formats.js`), not a library with its
own reading of the RFCs (jsonschema's default checker would also silently skip formats whose optional
packages are missing). `tests/tools/test_format_parity.py` runs the same values through both.

Ported regular expressions use `[0-9]` for JavaScript's `\\d`, `\\Z` for `$`, and ASCII-only case
folding, which is what JavaScript does for these patterns.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from jsonschema import FormatChecker

_I = re.IGNORECASE | re.ASCII

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})\Z", re.ASCII)
_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_TIME = re.compile(
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}(?:\.[0-9]+)?)(z|([+-])([0-9]{2})(?::?([0-9]{2}))?)?\Z", _I
)
# JavaScript's \s: what `str.split(/t|\s/i)` splits a date-time on.
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_DATE_TIME_SEPARATOR = re.compile(f"[tT{_JS_SPACE}]")
_DURATION = re.compile(
    r"P(?!\Z)(([0-9]+Y)?([0-9]+M)?([0-9]+D)?(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+S)?)?|([0-9]+W)?)\Z"
)
_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\Z",
    _I,
)
_HOSTNAME = re.compile(
    r"(?=[^\n\r\u2028\u2029]{1,253}\.?\Z)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    r"(?:\.[a-z0-9](?:[-0-9a-z]{0,61}[0-9a-z])?)*\.?\Z",
    _I,
)
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}\Z", re.ASCII)
_V4 = rf"({_OCTET}(\.{_OCTET}){{3}})"
_H = r"[0-9a-f]{1,4}"
_IPV6 = re.compile(
    rf"((({_H}:){{7}}({_H}|:))|(({_H}:){{6}}(:{_H}|{_V4}|:))|(({_H}:){{5}}(((:{_H}){{1,2}})|:{_V4}|:))"
    rf"|(({_H}:){{4}}(((:{_H}){{1,3}})|((:{_H})?:{_V4})|:))|(({_H}:){{3}}(((:{_H}){{1,4}})|((:{_H}){{0,2}}:{_V4})|:))"
    rf"|(({_H}:){{2}}(((:{_H}){{1,5}})|((:{_H}){{0,3}}:{_V4})|:))|(({_H}:){{1}}(((:{_H}){{1,6}})|((:{_H}){{0,4}}:{_V4})|:))"
    rf"|(:(((:{_H}){{1,7}})|((:{_H}){{0,5}}:{_V4})|:)))\Z",
    _I,
)
_UUID = re.compile(r"(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}\Z", _I)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def is_date(text: str) -> bool:
    """RFC 3339 full-date with a real day of the month (ajv-formats `date`)."""
    match = _DATE.match(text)
    if not match:
        return False
    year, month, day = (int(g) for g in match.groups())
    return 1 <= month <= 12 and 1 <= day <= (29 if month == 2 and _leap(year) else _DAYS[month])


def is_time(text: str) -> bool:
    """RFC 3339 full-time, time zone required, leap second only at 23:59:60 UTC (ajv-formats `time`)."""
    match = _TIME.match(text)
    if not match:
        return False
    hour, minute, second = int(match[1]), int(match[2]), float(match[3])
    zone, sign = match[4], -1 if match[5] == "-" else 1
    zone_hour, zone_minute = int(match[6] or 0), int(match[7] or 0)
    if zone_hour > 23 or zone_minute > 59 or not zone:
        return False
    if hour <= 23 and minute <= 59 and second < 60:
        return True
    utc_minute = minute - zone_minute * sign
    utc_hour = hour - zone_hour * sign - (1 if utc_minute < 0 else 0)
    return utc_hour in (23, -1) and utc_minute in (59, -1) and second < 61


def is_date_time(text: str) -> bool:
    """A date and a time separated by T (or a space), as ajv-formats `date-time`."""
    parts = _DATE_TIME_SEPARATOR.split(text)
    return len(parts) == 2 and is_date(parts[0]) and is_time(parts[1])


def _regex(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        return pattern.match(text) is not None

    return check


CHECKS: dict[str, Callable[[str], bool]] = {
    "date-time": is_date_time,
    "time": is_time,
    "date": is_date,
    "duration": _regex(_DURATION),
    "email": _regex(_EMAIL),
    "hostname": _regex(_HOSTNAME),
    "ipv4": _regex(_IPV4),
    "ipv6": _regex(_IPV6),
    "uuid": _regex(_UUID),
}
"""One checker per format in `worker.roles.parameters.FORMATS`."""


def format_checker() -> FormatChecker:
    """A jsonschema FormatChecker running `CHECKS` on strings (other types pass, as in Ajv)."""
    checker = FormatChecker(formats=())
    for name, check in CHECKS.items():

        def run(instance: object, check: Callable[[str], bool] = check) -> bool:
            return not isinstance(instance, str) or check(instance)

        checker.checks(name)(run)
    return checker
