"""Identifier check digits of the reference rule pack.

`national_id` is the personal insurance number (SNILS), `tax_id` the 12-digit
taxpayer number of a person (INN), employers carry the 10-digit INN of a company.
The functions are pure so that the validator, the generator and tests share them.
"""

from operator import mul

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)

# SNILS numbers up to 001-001-998 were issued before check digits existed.
_SNILS_UNCHECKED_MAX = 1001998
_SNILS_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, 1)


_DIGIT_VALUES = bytes.maketrans(b"0123456789", bytes(range(10)))


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    """Sum of digit x weight. ASCII digits are turned into their values and summed in C
    (the feeds' hot path); other Unicode decimal digits, which int() also reads, the slow way."""
    if len(digits) != len(weights):
        raise ValueError(f"expected {len(weights)} digits")
    if digits.isascii() and digits.isdigit():
        return sum(map(mul, digits.encode().translate(_DIGIT_VALUES), weights))
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True))


def snils_check(body: str) -> str:
    """The two check digits of a 9-digit SNILS body."""
    total = _weighted(body, _SNILS_WEIGHTS)
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
    return str(_weighted(digits, weights) % 11 % 10)


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
