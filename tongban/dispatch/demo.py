"""Demo data of 智能派单: a few 权责清单 rules of the fictional county and the first model version,
trained on the demo's finished cases so the dispatcher queue shows suggestions straight away."""
from __future__ import annotations

from datetime import datetime

from tongban.cases.models import Category
from tongban.core.models import Level, Unit

from . import learning
from .models import DispatchLabel, ModelVersion, RoutingRule, Suggestion

DEMO_LIMIT = 600  # the most recent finished cases: enough to be useful, quick to train (~7 s of CPU)

# name, category full name, keywords, 属地 level or None, unit name, priority, basis
RULES = [
    ("路灯、垃圾清运（属地管理）", "", "路灯 垃圾清运 垃圾长期", Level.TOWN, None, 10, "县城市管理职责下放乡镇（街道）清单"),
    ("广场舞噪音（属地管理）", "", "广场舞", Level.TOWN, None, 10, "社会生活噪声由乡镇（街道）属地劝导"),
    ("小区下水道堵塞（属地管理）", "", "下水道", Level.TOWN, None, 5, ""),
    ("电梯故障", "", "电梯", None, "县市场监督管理局", 10, "特种设备安全监察"),
    ("停电、供电故障", "", "停电 供电", None, "青溪县供电公司", 10, "供电服务"),
    ("停水、供水故障", "", "停水 自来水", None, "青溪县自来水公司", 10, "供水服务"),
    ("不动产登记", "城乡建设/住房保障与房地产/房产证登记、办理", "", None, "县自然资源局", 5, "不动产登记职责"),
    ("商品房延期交房", "", "延期交房", None, "县住房和城乡建设局", 5, "房地产开发监管"),
]


def build(org, *, seed: int, end: datetime) -> list[str]:
    categories = {c.full_name: c for c in Category.objects.filter(full_name__in=[r[1] for r in RULES if r[1]])}
    units = {u.name: u for u in Unit.objects.filter(name__in=[r[4] for r in RULES if r[4]])}
    made = 0
    for name, cat, keywords, level, unit, priority, note in RULES:
        if (cat and cat not in categories) or (unit and unit not in units):
            continue  # a trimmed demo organisation: leave the rule out
        RoutingRule.objects.create(name=name, category=categories.get(cat), keywords=keywords, territorial=level is not None,
                                   level=level or Level.COUNTY, unit=units.get(unit), priority=priority, note=note)
        made += 1
    lines = [f"智能派单：权责清单规则 {made} 条"]
    try:
        v = learning.train(limit=DEMO_LIMIT, trigger="demo", activate=True)
    except learning.TrainingError as e:
        return lines + [f"智能派单：未训练模型（{e}）"]
    score = "、".join(x for x in (
        f"派单准确率 {v.unit_accuracy:.0%}" if v.unit_accuracy is not None else "",
        f"分类准确率 {v.category_accuracy:.0%}" if v.category_accuracy is not None else "") if x)
    lines.append(f"智能派单：模型 v{v.number} 用最近 {v.n_train} 件办结工单训练（{v.train_seconds:.0f} 秒），留出评估 {score}")
    return lines


def wipe() -> None:
    Suggestion.objects.all().delete()
    DispatchLabel.objects.all().delete()
    RoutingRule.objects.all().delete()
    for v in ModelVersion.objects.all():
        (learning.models_dir() / v.file).unlink(missing_ok=True)
    ModelVersion.objects.all().delete()
    learning.forget_loaded_model()
