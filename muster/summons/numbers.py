"""Summons numbers: region, a nine-digit serial and a Luhn check digit (12 digits)."""


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def make(region: str, serial: int) -> str:
    body = f"{region}{serial:09d}"
    return body + luhn_digit(body)


def valid(number: str) -> bool:
    return len(number) == 12 and number.isdigit() and luhn_digit(number[:-1]) == number[-1]
