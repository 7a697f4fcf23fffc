"""Turning ids and numbers from the request into rows, with field errors instead of 500s."""
from __future__ import annotations

from tongban.cases import access
from tongban.cases.models import Case

from .errors import FieldErrors

MAX_ID = 2**53  # ids beyond this cannot exist; keeps absurd values away from the database
DETAIL_RELATED = ("case_type", "unit", "category", "region", "duplicate_of")


def visible_case(user, number: str) -> Case:
    """The case numbered `number` if `user` may see it; Case.DoesNotExist (→ 404) otherwise."""
    if not number or len(number) > 20 or "\x00" in number:
        raise Case.DoesNotExist
    return access.get_visible_case(user, number=number)


def reload(case: Case) -> Case:
    return Case.objects.select_related(*DETAIL_RELATED).get(pk=case.pk)


def units(ids: list[int], field: str) -> list:
    from tongban.core.models import Unit

    wanted = list(dict.fromkeys(ids))
    found = {u.pk: u for u in Unit.objects.filter(pk__in=[i for i in wanted if 0 < i <= MAX_ID], active=True)}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise FieldErrors({field: f"单位不存在或已停用：{'、'.join(map(str, missing))}。"})
    return [found[i] for i in wanted]


def unit(pk: int, field: str = "unit"):
    from tongban.core.models import Unit

    found = Unit.objects.filter(pk=pk, active=True).first() if 0 < pk <= MAX_ID else None
    if found is None:
        raise FieldErrors({field: "单位不存在或已停用。"})
    return found
