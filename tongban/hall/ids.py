"""Check-digit-correct identifiers for licences issued here and for demo data (python-stdnum)."""
from __future__ import annotations

from random import Random

from stdnum.cn import ric, uscc


def make_id_number(rng: Random, *, region: str = "110101", year: int | None = None) -> str:
    """A 居民身份证号码 with a real region code, a real birth date and a correct check digit."""
    y = year or rng.randint(1950, 2004)
    body = f"{region}{y:04d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")


def make_uscc(rng: Random, *, region: str = "110101") -> str:
    """A 统一社会信用代码 (9 = 市场监管登记, 1 = 企业) with a correct check digit."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + region + "".join(rng.choice(alphabet) for _ in range(9))
    return body + uscc.calc_check_digit(body + "0")
