"""Which form serves which case action on the case page, and which service function it calls."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from django import forms

from tongban.cases.access import visible_cases
from tongban.cases.models import Case
from tongban.core.models import Unit
from tongban.hotline import services as hotline
from tongban.hotline.queries import default_units

from . import forms as f


@dataclass(frozen=True)
class ActionForm:
    form: type[forms.Form]
    run: Callable  # (case, cleaned_data, user) -> Case
    danger: bool = False  # shown with a warning colour


def _units(ids):
    return list(Unit.objects.filter(pk__in=ids or []))


def _unit(pk):
    return Unit.objects.get(pk=pk)


def _original(number, user):
    original = visible_cases(user).filter(number=number.strip()).first()
    if original is None:
        raise hotline.RuleError(f"找不到编号为 {number} 的工单。")
    return original


ACTIONS: dict[str, ActionForm] = {
    "dispatch": ActionForm(f.DispatchForm, lambda c, d, u: hotline.dispatch(c, _unit(d["unit"]), co_units=_units(d["co_units"]), note=d["note"], by=u)),
    "answer": ActionForm(f.AnswerForm, lambda c, d, u: hotline.answer_directly(c, d["reply"], by=u)),
    "refuse": ActionForm(f.RefuseForm, lambda c, d, u: hotline.refuse(c, d["reason"], d["note"], by=u), danger=True),
    "merge": ActionForm(f.MergeForm, lambda c, d, u: hotline.link_duplicate(c, _original(d["original"], u), by=u)),
    "relay": ActionForm(f.RelayForm, lambda c, d, u: hotline.relay(c, _unit(d["unit"]), note=d["note"], by=u)),
    "sign": ActionForm(forms.Form, lambda c, d, u: hotline.sign(c, by=u)),
    "return": ActionForm(f.ReasonForm, lambda c, d, u: hotline.return_case(c, d["note"], by=u), danger=True),
    "reassign": ActionForm(f.ReassignForm, lambda c, d, u: hotline.reassign(c, _unit(d["unit"]), note=d["note"], by=u)),
    "keep": ActionForm(f.KeepForm, lambda c, d, u: hotline.keep(c, note=d["note"], co_units=_units(d["co_units"]), by=u)),
    "request_extension": ActionForm(f.ExtensionForm, lambda c, d, u: hotline.request_extension(c, d["days"], d["reason"], by=u)),
    "decide_extension": ActionForm(f.ExtensionDecisionForm, lambda c, d, u: hotline.decide_extension(c, d["approve"], note=d["note"], by=u)),
    "progress": ActionForm(f.ReasonForm, lambda c, d, u: hotline.add_progress(c, d["note"], by=u)),
    "suspend": ActionForm(f.ReasonForm, lambda c, d, u: hotline.suspend(c, d["note"], by=u)),
    "resume": ActionForm(f.NoteForm, lambda c, d, u: hotline.resume(c, note=d["note"], by=u)),
    "finish": ActionForm(f.FinishForm, lambda c, d, u: hotline.finish(c, d["reply"], d["result"], by=u)),
    "callback": ActionForm(f.CallbackForm, lambda c, d, u: hotline.callback(
        c, reached=d["reached"], satisfaction=d.get("satisfaction") or "", solved=d.get("solved"), note=d["note"], by=u)),
    "supervise": ActionForm(f.ReasonForm, lambda c, d, u: hotline.supervise(c, d["note"], by=u)),
}


def build_form(action: str, case: Case, data=None) -> forms.Form:
    spec = ACTIONS[action]
    prefix = action
    if spec.form is f.RelayForm:
        return spec.form(data, case=case, prefix=prefix)
    if spec.form is f.DispatchForm or spec.form is f.ReassignForm:
        form = spec.form(data, prefix=prefix)
        if case.category_id and not data:
            form.initial["unit"] = default_units().get(case.category_id)
        return form
    return spec.form(data, prefix=prefix)
