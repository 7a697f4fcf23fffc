"""Which unit should handle a request: 权责清单 rules + the learnt model + the category's default
unit, merged into the top-3 suggestions, each with a score and the reason.

Scores are in [0, 1]. Each source proposes units with its own score:

* a matching rule: 0.95 (category and keyword), 0.9 (category), 0.85 (keyword) — times the
  category's probability when the category is predicted, not confirmed; rules below the highest
  matching priority count at 0.75 of that;
* the model: its probability for the unit (a 属地 level resolved through the request's place) —
  when the operator confirmed a category the model reads differently, times the model's
  probability of that category relative to its own first choice;
* the category's default unit: 0.6 (times the category probability when predicted).

Sources that agree reinforce each other: a unit's score is 1 − Π(1 − sᵢ) over its sources, so a
rule and the model naming the same unit give more confidence than either alone.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.utils import timezone

from tongban.cases.models import Case
from tongban.core import places
from tongban.core.models import Region, Unit, UnitKind

from . import learning
from .directory import directory
from .models import Suggestion

log = logging.getLogger(__name__)
TOP_N = 3
RULE_BOTH, RULE_CATEGORY, RULE_KEYWORD = 0.95, 0.9, 0.85
LOWER_PRIORITY = 0.75
DEFAULT_UNIT = 0.6
MIN_SCORE = 0.01  # below this a suggestion says nothing


@dataclass
class UnitSuggestion:
    unit: Unit
    score: float
    reasons: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "；".join(self.reasons)


@dataclass
class CategoryGuess:
    name: str  # full name (the finest level known)
    confidence: float  # 1.0 when confirmed at intake
    confirmed: bool
    words: list[str] = field(default_factory=list)
    category_id: int | None = None


@dataclass
class Suggestions:
    items: list[UnitSuggestion]
    category: CategoryGuess | None
    region: Region | None
    model_version: int | None

    @property
    def best(self) -> UnitSuggestion | None:
        return self.items[0] if self.items else None

    @property
    def confidence(self) -> float:
        return self.items[0].score if self.items else 0.0


def locate_case(case: Case) -> Region | None:
    pk = case.region_id or places.locate_id(case.address) or places.locate_id(f"{case.title} {case.content}")
    return directory().regions.get(pk) if pk else None


def _category_guess(case: Case, prediction) -> CategoryGuess | None:
    if case.category_id:
        return CategoryGuess(case.category.full_name, 1.0, True, [], case.category_id)
    if prediction is None or prediction.category is None:
        return None
    p = prediction.detail or prediction.category
    name = p.label
    if prediction.detail is not None and prediction.detail.label.split("/")[0] != prediction.category.label:
        p, name = prediction.category, prediction.category.label  # the two disagree: trust level 1
    confidence = p.confidence if p is prediction.category else min(p.confidence, prediction.category.confidence)
    category = directory().categories.get(name)
    return CategoryGuess(name, confidence, False, p.reasons, category)


def _usable(unit: Unit | None) -> bool:
    return unit is not None and unit.active and unit.kind != UnitKind.CENTRE


def rule_candidates(text: str, guess: CategoryGuess | None, region: Region | None, rules=None):
    """(unit, score, reason) for each active rule the request matches."""
    if rules is None:
        rules = directory().rules
    matched = []
    for rule in rules:
        cat_ok = None
        if rule.category_id:
            cat_ok = guess is not None and (guess.name == rule.category.full_name or guess.name.startswith(rule.category.full_name + "/"))
            if not cat_ok:
                continue
        words = rule.keyword_list()
        hits = [w for w in words if w in text]
        if words and not hits:
            continue
        if not rule.category_id and not words:
            continue  # a rule without a condition matches nothing
        score = RULE_BOTH if cat_ok and hits else RULE_CATEGORY if cat_ok else RULE_KEYWORD
        if cat_ok and not guess.confirmed:
            score *= guess.confidence
        matched.append((rule, score, hits))
    if not matched:
        return []
    top = max(r.priority for r, _, _ in matched)
    out = []
    for rule, score, hits in matched:
        if rule.territorial:
            unit = directory().territorial_unit(region.pk if region else None, rule.level)
            where = f"属地{rule.get_level_display()}“{region}”" if region else ""
        else:
            unit, where = rule.unit, ""
        if not _usable(unit):
            continue
        why = [f"权责清单“{rule.name}”"]
        if rule.category_id:
            why.append(f"分类{rule.category.full_name}")
        if hits:
            why.append("关键词" + "、".join(hits[:3]))
        if where:
            why.append(where)
        out.append((unit, score * (1 if rule.priority == top else LOWER_PRIORITY), "，".join(why)))
    return out


def _model_agrees(guess: CategoryGuess | None, prediction) -> float:
    """How far to trust the model's units when the operator confirmed the category: the model's
    probability of that category (level 1) relative to its own first choice. The unit head reads
    only the text; when the text reads as another topic (a wage complaint that names an insurance
    company), its units belong to that topic. 1 when nothing was confirmed or the model agrees."""
    if guess is None or not guess.confirmed or prediction.category is None:
        return 1.0
    confirmed = guess.name.split("/")[0]
    top = prediction.category.top_k
    if not top or top[0][0] == confirmed:
        return 1.0
    p = dict(top).get(confirmed, 0.0)
    return min(1.0, p / top[0][1]) if top[0][1] > 0 else 1.0


def _default_unit(category_id: int | None) -> Unit | None:
    d = directory()
    return d.units.get(d.defaults.get(category_id))


def suggest(case: Case, *, rules=None, active=None) -> Suggestions:
    """The top-3 units for a case, best first, with scores and reasons (see the module doc).
    `active`: the (version, model) pair when the caller already has it (a page of cases)."""
    version, model = active or learning.active_model()
    prediction = model.predict(case.title, case.content) if model is not None else None
    guess = _category_guess(case, prediction)
    region = locate_case(case)
    text = f"{case.title} {case.content}"
    sources: dict[int, list[tuple[float, str]]] = {}
    units: dict[int, Unit] = {}

    def add(unit, score, reason):
        if _usable(unit) and score > 0:
            units[unit.pk] = unit
            sources.setdefault(unit.pk, []).append((score, reason))

    for unit, score, reason in rule_candidates(text, guess, region, rules):
        add(unit, score, reason)
    if prediction is not None and prediction.unit is not None:
        trust = _model_agrees(guess, prediction)
        for rank, (label, p) in enumerate(prediction.unit.top_k):
            if p * trust < MIN_SCORE:
                continue
            unit = learning.resolve_unit(label, region=region)
            words = "、".join(prediction.unit.reasons[:4]) if rank == 0 else ""
            where = f"，属地“{region}”" if label.startswith("@") and region else ""
            doubt = f"，与确认的分类不符，按 {trust:.0%} 计" if trust < 1 else ""
            add(unit, p * trust, "模型" + (f"：{words}" if words else "") + f"{where}（{p:.0%}{doubt}）")
    if guess is not None:
        default = _default_unit(guess.category_id)
        if default is not None:
            how = "" if guess.confirmed else f"（预测 {guess.confidence:.0%}）"
            add(default, DEFAULT_UNIT * guess.confidence, f"分类“{guess.name}”的默认承办单位{how}")
    items = []
    for pk, found in sources.items():
        miss = 1.0
        for score, _ in found:
            miss *= 1 - min(score, 0.999)
        found.sort(key=lambda s: -s[0])
        items.append(UnitSuggestion(units[pk], 1 - miss, [r for _, r in found]))
    items = [s for s in items if s.score >= MIN_SCORE]
    items.sort(key=lambda s: (-s.score, s.unit.pk))
    return Suggestions(items[:TOP_N], guess, region, version.number if version and model else None)


def remember(case: Case, result: Suggestions, *, auto: bool = False) -> Suggestion:
    """Store what was suggested for the case (what a dispatcher's choice is compared with)."""
    items = [{"unit": s.unit.pk, "name": s.unit.name, "score": round(s.score, 4), "reason": s.reason} for s in result.items]
    guess = result.category
    category = {"name": guess.name, "confidence": round(guess.confidence, 4), "confirmed": guess.confirmed,
                "words": guess.words} if guess else {}
    row, _ = Suggestion.objects.update_or_create(case=case, defaults=dict(
        unit=result.best.unit if result.best else None, confidence=result.confidence, items=items, category=category,
        model_version=result.model_version, auto=auto, created_at=timezone.now()))
    return row


def queue_context(cases: list[Case], disputed=()) -> dict:
    """What the dispatcher queue shows: suggestions per case, the model in use, the auto-dispatch
    setting, and for each disputed (case, return event) the unit its return reason names (to
    preselect for 改派). A failure leaves a case without suggestions; the page still works."""
    found = {}
    try:
        version, model = active = learning.active_model()
    except Exception:  # the page must work without 智能派单
        log.exception("智能派单：派单建议不可用")
        return {"smart": {}, "model_version": None, "auto_dispatch": None, "unit_groups": None}
    for case in cases:
        try:
            found[case.pk] = suggest(case, active=active)
        except Exception:
            log.exception("智能派单：工单 %s 的派单建议计算失败", case.pk)
    d = directory()
    named = {c.pk: d.unit_named_in(ret.note, exclude=c.unit_id) for c, ret in disputed if ret is not None}
    return {"smart": found, "model_version": version if model is not None else None, "auto_dispatch": d.settings,
            "unit_groups": d.unit_groups(), "suggested": d.defaults,
            "reassign_to": {pk: u.pk for pk, u in named.items() if u is not None}}


def anything_to_suggest() -> bool:
    """Whether a learnt model or a rule exists (else the category default is all there is)."""
    return learning.active_model()[1] is not None or bool(directory().rules)
