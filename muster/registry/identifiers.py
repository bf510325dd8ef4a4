"""Identifier check digits of the reference rule pack.

`national_id` is the personal insurance number (SNILS), `tax_id` the 12-digit
taxpayer number of a person (INN), employers carry the 10-digit INN of a company.
The functions are pure so that the validator, the generator and tests share them.
"""

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)

# SNILS numbers up to 001-001-998 were issued before check digits existed.
_SNILS_UNCHECKED_MAX = 1001998


def snils_check(body: str) -> str:
    """The two check digits of a 9-digit SNILS body."""
    total = sum(int(d) * w for d, w in zip(body, range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    return "00" if total in (100, 101) else f"{total:02d}"


def snils_valid(value: str) -> bool:
    if len(value) != 11 or not value.isdigit():
        return False
    if int(value[:9]) <= _SNILS_UNCHECKED_MAX:
        return True
    return snils_check(value[:9]) == value[9:]


def _inn_digit(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)


def inn10_check(body: str) -> str:
    """The check digit of a 9-digit company INN body."""
    return _inn_digit(body, _INN10_WEIGHTS)


def inn12_check(body: str) -> str:
    """The two check digits of a 10-digit personal INN body."""
    d11 = _inn_digit(body, _INN12_WEIGHTS_11)
    return d11 + _inn_digit(body + d11, _INN12_WEIGHTS_12)


def inn10_valid(value: str) -> bool:
    return len(value) == 10 and value.isdigit() and inn10_check(value[:9]) == value[9]


def inn12_valid(value: str) -> bool:
    return len(value) == 12 and value.isdigit() and inn12_check(value[:10]) == value[10:]


def format_snils(value: str) -> str:
    """Human form 123-456-789 01, as printed on the insurance card."""
    return f"{value[:3]}-{value[3:6]}-{value[6:9]} {value[9:]}"
