"""The learning loop: training data from finished cases and corrections, the routing model
(category + finer category + unit), versions on disk, activation, rollback and a per-process cache.

The unit model predicts *where* a request goes: a department or enterprise by id ("u17"), or a
jurisdiction level ("@3" 乡镇/街道, "@4" 村/社区, "@5" 网格) that the request's place resolves to a
unit. So "street lamp broken" learns 属地 once, not once per town.
"""
from __future__ import annotations

import csv
import hashlib
import logging
import os
import pickle
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from sklearn.metrics import accuracy_score, f1_score

from tongban.cases.models import Case, CaseEvent
from tongban.core import places
from tongban.core.models import Region, Unit, UnitKind

from .classifier import Analysed, CategoryModel, Prediction, Settings
from .models import AutoDispatchSettings, DispatchLabel, LabelSource, ModelVersion

log = logging.getLogger(__name__)

FORMAT = 1
TERRITORIAL_KINDS = (UnitKind.TOWN, UnitKind.VILLAGE, UnitKind.GRID)
FINISHED_STATES = ("pending_callback", "closed")
MIN_FINE_CLASS = 3  # a level-2/3 category needs this many examples to be learnt on its own
TEST_SHARE = 0.2  # the most recent fifth is held out for the evaluation
ROUTING_SETTINGS = Settings(min_df=2)  # singletons only make the file bigger
DEFAULT_LIMIT = 3000  # most recent examples per training run (dual ridge: n × n)
TOLERANCE = 0.01  # a new version is activated unless it scores this much worse


class TrainingError(ValueError):
    """Training cannot run; the message is Chinese."""


@dataclass
class Example:
    title: str
    detail: str
    category: str = ""  # full name "一级/二级/三级", or ""
    unit_id: int | None = None
    region_id: int | None = None
    address: str = ""
    at: float = 0.0  # timestamp, for the recent held-out slice
    case_id: int | None = None


def unit_label(unit: Unit) -> str:
    if unit.kind in TERRITORIAL_KINDS:
        return f"@{unit.region.level}"
    return f"u{unit.pk}"


# --------------------------------------------------------------------------- training data


def examples_from_db(limit: int = DEFAULT_LIMIT) -> tuple[list[Example], int, int]:
    """Finished, dispatched cases (their confirmed category and the unit the centre's last
    派单/改派 gave them) and the corrections of cases not finished yet (the newest per case; a
    退回's named unit only while the return is undecided — 驳回 proves it wrong).
    Returns (examples oldest first, number of cases, number of corrections used)."""
    finished = Case.objects.filter(state__in=FINISHED_STATES, dispatched_at__isnull=False).order_by("-finished_at", "-id")
    ids = list(finished.values_list("pk", flat=True)[:limit])
    routed: dict[int, int] = {}
    for case_id, unit_id in (CaseEvent.objects.filter(case_id__in=ids, action__in=("dispatch", "reassign"), unit__isnull=False)
                             .order_by("case_id", "seq").values_list("case_id", "unit_id")):
        routed[case_id] = unit_id  # the last one wins
    rows: dict[int, Example] = {}
    for pk, title, content, cat, region, address, created in Case.objects.filter(pk__in=ids).values_list(
            "pk", "title", "content", "category__full_name", "region_id", "address", "created_at"):
        rows[pk] = Example(title, content, cat or "", routed.get(pk), region, address, created.timestamp(), pk)
    labels = (DispatchLabel.objects.filter(unit__isnull=False).order_by("-created_at", "-id")
              .exclude(case_id__in=ids)  # a finished case's final unit is the truth
              .values_list("case_id", "text", "category__full_name", "unit_id", "case__region_id", "case__address",
                           "case__title", "created_at", "source", "case__state")[:limit])
    seen: set[int] = set()
    used = 0
    for case_id, text, cat, unit_id, region, address, title, at, source, state in labels:
        if case_id in seen:
            continue  # the newest correction of a case decides
        seen.add(case_id)
        if source == LabelSource.RETURN and state != "disputed":
            continue  # kept by the dispatcher (驳回), or reassigned (a newer label)
        used += 1
        detail = text[len(title):].strip() if text.startswith(title) else text
        rows[case_id] = Example(title, detail, cat or "", unit_id, region, address, at.timestamp(), case_id)
    examples = sorted(rows.values(), key=lambda e: e.at)
    return examples[-limit:], len(ids), used


FILE_COLUMNS = {"title": ("title", "标题"), "detail": ("detail", "content", "内容", "诉求内容"),
                "category": ("category", "分类", "诉求分类"), "unit": ("unit", "单位", "承办单位", "主办单位"),
                "address": ("address", "地址")}


def examples_from_file(path: str | Path) -> list[Example]:
    """CSV (UTF-8) or XLSX with columns title, detail (or content), category and optionally unit
    (a unit's name or short name) and address; Chinese headers 标题/内容/分类/承办单位/地址 work too."""
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"找不到文件：{path}")
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        try:
            ws = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        except Exception as e:  # openpyxl raises many kinds for a damaged file
            raise TrainingError(f"{path}：不是有效的 Excel 文件（{e}）") from None
        rows = [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
    else:
        try:
            with open(path, encoding="utf-8-sig", newline="") as f:
                rows = list(csv.reader(f))
        except UnicodeDecodeError:
            raise TrainingError(f"{path}：不是 UTF-8 编码（Excel 请另存为“CSV UTF-8”或直接用 .xlsx）") from None
    if not rows:
        raise TrainingError(f"{path}：文件是空的")
    header = [h.strip().lower() for h in rows[0]]
    col = {}
    for key, names in FILE_COLUMNS.items():
        col[key] = next((header.index(n) for n in names if n in header), None)
    if col["title"] is None or col["detail"] is None or (col["category"] is None and col["unit"] is None):
        raise TrainingError(f"{path}：需要 title、detail 两列，以及 category 或 unit 至少一列（第一行为表头）")
    units = {}
    for u in Unit.objects.filter(active=True):
        units[u.name] = u.pk
        if u.short_name:
            units.setdefault(u.short_name, u.pk)
    examples, unknown = [], Counter()

    def cell(row, key):
        i = col[key]
        return row[i].strip() if i is not None and i < len(row) and row[i] else ""

    for n, row in enumerate(rows[1:], start=2):
        title, detail = cell(row, "title"), cell(row, "detail")
        if not (title or detail):
            continue
        unit_name = cell(row, "unit")
        unit_id = units.get(unit_name)
        if unit_name and unit_id is None:
            unknown[unit_name] += 1
        category = cell(row, "category").replace(" ", "")
        examples.append(Example(title, detail, category, unit_id, None, cell(row, "address"), float(n)))
    if unknown:
        names = "、".join(f"{k}（{v} 条）" for k, v in unknown.most_common(5))
        raise TrainingError(f"{path}：找不到这些承办单位：{names}。请使用系统中的单位全称或简称")
    if not examples:
        raise TrainingError(f"{path}：没有任何数据行")
    return examples


# --------------------------------------------------------------------------- the model


@dataclass
class RoutingPrediction:
    category: Prediction | None  # level 1
    detail: Prediction | None  # the finest category the data supports (level 2/3), full name
    unit: Prediction | None  # label "u<id>" or "@<level>"


@dataclass
class RoutingModel:
    category: CategoryModel | None
    detail: CategoryModel | None
    unit: CategoryModel | None
    meta: dict = field(default_factory=dict)

    def _any(self) -> CategoryModel:
        return next(m for m in (self.category, self.unit, self.detail) if m is not None)

    def predict(self, title: str, detail: str = "") -> RoutingPrediction:
        analysed = Analysed((title, detail), self._any().taxonomy)  # analysed once, read by all three

        def one(m):
            return m.predict_many([analysed])[0] if m is not None else None

        return RoutingPrediction(one(self.category), one(self.detail), one(self.unit))


def _fine_labels(categories: list[str]) -> list[str]:
    counts = Counter()
    for c in categories:
        parts = c.split("/")
        for n in range(1, len(parts) + 1):
            counts["/".join(parts[:n])] += 1
    out = []
    for c in categories:
        parts = c.split("/")
        best = parts[0]
        for n in range(2, len(parts) + 1):
            if counts["/".join(parts[:n])] >= MIN_FINE_CLASS:
                best = "/".join(parts[:n])
        out.append(best)
    return out


def _fit(examples: list[Example], analysed: list[Analysed], labels: list[str]) -> CategoryModel | None:
    pairs = [(a, y) for a, y in zip(analysed, labels) if y]
    if len({y for _, y in pairs}) < 2:
        return None
    model = CategoryModel(ROUTING_SETTINGS)
    model.fit([a for a, _ in pairs], [y for _, y in pairs])
    model._coef = model._coef.astype("float32")  # halves the file; scores differ by < 1e-6
    return model


def fit_routing_model(examples: list[Example], analysed: list[Analysed] | None = None) -> RoutingModel:
    if analysed is None:
        analysed = CategoryModel().analyse([(e.title, e.detail) for e in examples])
    unit_labels = _unit_labels(examples)
    cats = [e.category for e in examples]
    level1 = [c.split("/")[0] if c else "" for c in cats]
    fine = _fine_labels([c for c in cats if c])
    it = iter(fine)
    fine_all = [next(it) if c else "" for c in cats]
    category = _fit(examples, analysed, level1)
    detail = _fit(examples, analysed, fine_all) if set(fine_all) - set(level1) else None
    unit = _fit(examples, analysed, unit_labels)
    if category is None and unit is None:
        raise TrainingError("训练数据不足：至少需要两个不同的分类或两个不同的承办单位")
    return RoutingModel(category, detail, unit, {"format": FORMAT, "n": len(examples)})


def _unit_labels(examples: list[Example]) -> list[str]:
    ids = {e.unit_id for e in examples if e.unit_id}
    units = {u.pk: u for u in Unit.objects.filter(pk__in=ids).select_related("region")}
    return [unit_label(units[e.unit_id]) if e.unit_id in units else "" for e in examples]


def resolve_unit(label: str, *, region: Region | None = None, text: str = "") -> Unit | None:
    """The concrete unit of a unit-model label: by id, or the 属地 unit at a level for the place."""
    from .directory import directory

    if label.startswith("u"):
        return directory().units.get(int(label[1:]))
    region_id = region.pk if region else places.locate_id(text)
    return directory().territorial_unit(region_id, int(label[1:]))


# --------------------------------------------------------------------------- evaluation


@dataclass
class Evaluation:
    n_test: int = 0
    category_accuracy: float | None = None
    category_f1: float | None = None
    unit_accuracy: float | None = None
    unit_f1: float | None = None
    unit_top3: float | None = None


def evaluate(model: RoutingModel, test: list[Example], analysed: list[Analysed]) -> Evaluation:
    out = Evaluation(n_test=len(test))
    truth_c, pred_c, truth_u, pred_u, top3 = [], [], [], [], []
    regions = {r.pk: r for r in Region.objects.filter(pk__in={e.region_id for e in test if e.region_id})}
    for e, a in zip(test, analysed):
        if model.category is not None and e.category:
            truth_c.append(e.category.split("/")[0])
            pred_c.append(model.category.predict_many([a])[0].label)
        if model.unit is not None and e.unit_id:
            p = model.unit.predict_many([a])[0]
            region = regions.get(e.region_id)
            text = f"{e.address} {e.title} {e.detail}"
            resolved = [resolve_unit(label, region=region, text=text) for label, _ in p.top_k]
            ids = [u.pk if u else None for u in resolved]
            truth_u.append(e.unit_id)
            pred_u.append(ids[0] or 0)
            top3.append(e.unit_id in ids)
    if truth_c:
        out.category_accuracy = float(accuracy_score(truth_c, pred_c))
        out.category_f1 = float(f1_score(truth_c, pred_c, average="macro", zero_division=0))
    if truth_u:
        out.unit_accuracy = float(accuracy_score(truth_u, pred_u))
        out.unit_f1 = float(f1_score(truth_u, pred_u, average="macro", zero_division=0, labels=sorted(set(truth_u))))
        out.unit_top3 = sum(top3) / len(top3)
    return out


# --------------------------------------------------------------------------- versions


def models_dir() -> Path:
    path = Path(settings.VAR_DIR) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _headline(v) -> float | None:
    return v.unit_accuracy if v.unit_accuracy is not None else v.category_accuracy


def train(*, examples: list[Example] | None = None, limit: int = DEFAULT_LIMIT, trigger: str = "manual",
          source: str = "database", activate: bool | None = None, n_cases: int = 0, n_labels: int = 0) -> ModelVersion:
    """Train a new version: evaluate on the most recent slice (a model fitted on the older part),
    then fit on everything and store it. `activate`: True always, False never, None if not worse
    than the active version (held-out accuracy of units, else of categories, within TOLERANCE)."""
    started = time.perf_counter()
    if examples is None:
        examples, n_cases, n_labels = examples_from_db(limit)
    examples = examples[-limit:]
    if len(examples) < 10:
        raise TrainingError(f"训练数据太少：只有 {len(examples)} 条（至少需要 10 条已办结并派过单的工单或样本）")
    analysed = CategoryModel().analyse([(e.title, e.detail) for e in examples])
    n_test = max(1, min(1000, round(len(examples) * TEST_SHARE)))
    head = len(examples) - n_test
    try:
        scored = evaluate(fit_routing_model(examples[:head], analysed[:head]), examples[head:], analysed[head:])
    except TrainingError:
        scored = Evaluation(n_test=0)  # the older part alone cannot be trained on: no evaluation
    model = fit_routing_model(examples, analysed)
    with transaction.atomic():
        number = (ModelVersion.objects.select_for_update().aggregate(n=Max("number"))["n"] or 0) + 1
        model.meta.update(version=number, trained_at=timezone.now().isoformat(timespec="seconds"))
        data = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        digest = hashlib.sha256(data).hexdigest()
        # named by content too: a version number can repeat (a rolled-back transaction, another database)
        path = models_dir() / f"routing-v{number}-{digest[:12]}.pkl"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        version = ModelVersion.objects.create(
            number=number, created_at=timezone.now(), file=path.name, trigger=trigger, source=source,
            n_cases=n_cases, n_labels=n_labels, n_train=len(examples), n_test=scored.n_test,
            category_accuracy=scored.category_accuracy, category_f1=scored.category_f1, unit_accuracy=scored.unit_accuracy,
            unit_f1=scored.unit_f1, unit_top3=scored.unit_top3, train_seconds=time.perf_counter() - started,
            file_bytes=len(data), sha256=digest,
        )
        current = AutoDispatchSettings.get().model
        if activate is None:
            new, old = _headline(version), _headline(current) if current else None
            activate = current is None or old is None or (new is not None and new >= old - TOLERANCE)
            if not activate:
                version.note = f"留出评估低于当前版本 v{current.number}（{new:.3f} < {old:.3f}），未启用"
                version.save(update_fields=["note"])
        if activate:
            _activate(version)
    version.activated = bool(activate)
    return version


def _activate(version: ModelVersion) -> None:
    settings_row = AutoDispatchSettings.get()
    settings_row.model = version
    settings_row.save()  # clears this process's routing directory; others reload within seconds


def activate(number: int) -> ModelVersion:
    version = ModelVersion.objects.filter(number=number).first()
    if version is None:
        raise TrainingError(f"没有模型版本 v{number}")
    if not (models_dir() / version.file).is_file():
        raise TrainingError(f"模型版本 v{number} 的文件 {version.file} 不存在，不能启用")
    _activate(version)
    return version


def rollback(to: int | None = None) -> ModelVersion:
    """Go back to version `to`, or to the newest version older than the active one."""
    if to is None:
        current = AutoDispatchSettings.get().model
        if current is None:
            raise TrainingError("当前没有启用的模型版本，无从回滚")
        previous = ModelVersion.objects.filter(number__lt=current.number).order_by("-number")
        for v in previous:
            if (models_dir() / v.file).is_file():
                return activate(v.number)
        raise TrainingError(f"v{current.number} 之前没有可用的模型版本")
    return activate(to)


# --------------------------------------------------------------------------- the loaded model


class _Cache:
    lock = threading.Lock()
    key: tuple | None = None
    model: RoutingModel | None = None


def load_version(version: ModelVersion) -> RoutingModel:
    data = (models_dir() / version.file).read_bytes()
    if version.sha256 and hashlib.sha256(data).hexdigest() != version.sha256:
        raise ValueError(f"模型文件 {version.file} 校验失败（已损坏或被替换）")
    model = pickle.loads(data)  # our own file, checksum verified above
    if not isinstance(model, RoutingModel) or model.meta.get("format") != FORMAT:
        raise ValueError(f"{version.file} 不是派单模型文件")
    return model


def active_model() -> tuple[ModelVersion | None, RoutingModel | None]:
    """The version in use and its model, loaded once per process and reloaded when the version in
    use changes (seen through the routing directory). A missing or damaged file gives
    (version, None) and is logged once."""
    from .directory import directory

    version = directory().settings.model
    if version is None:
        return None, None
    key = (version.number, version.sha256)
    if _Cache.key != key:
        with _Cache.lock:
            if _Cache.key != key:
                try:
                    _Cache.model = load_version(version)
                except Exception:
                    log.exception("智能派单：无法加载模型 v%s，派单建议只用权责清单与分类默认单位", version.number)
                    _Cache.model = None
                _Cache.key = key
    return version, _Cache.model


def forget_loaded_model() -> None:
    _Cache.key, _Cache.model = None, None
