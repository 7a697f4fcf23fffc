"""Evaluate the hotspot clustering (热点发现) on generated scenarios with planted clusters.

    .venv/bin/python benchmarks/hotspots_eval.py [--seeds 1-10] [--background 3000] [--growing 6] [--steady 3]

Each scenario covers two 7-day windows ending at a fixed moment in the fictional county of the demo
(示范市青溪县: its towns and villages from `tongban/demo/content.py`):

* **background**: N requests spread evenly over the 14 days, drawn from the demo content — 70 %
  request templates filled with random places, shops, estates …, 30 % real citizen messages — in
  random villages (weighted like the demo). Background issues recur (the same template in the same
  town) but evenly: they are not bursts.
* **growing bursts** (should be found and alerted): one issue in one village, 5–12 requests in the
  last 3 days of the current window and 0–1 in the previous window, each a paraphrase of the issue
  (several wordings × optional extra sentences × varied addresses), filed under the issue's
  category except for 25 % of them, filed under a random other category (operators disagree). The same issues also appear a few times elsewhere in the county (hard negatives).
* **steady issues** (should be found, not alerted): 4–6 paraphrased requests per window in both windows.

It runs the product's clustering (`tongban.hotspots.clusters.cluster_docs`, the function the daily
job runs on the rows it loads) and prints, per seed and averaged:

* **pairwise precision** — of the pairs of requests put in one reported cluster with at least one
  planted request, the share where both belong to the same planted issue;
* **pairwise recall** — of the pairs of requests of the same planted issue (current window), the
  share put in one reported cluster;
* **burst recall** — planted issues with a *matching* cluster (holds ≥ 50 % of the issue's
  current-window requests, and ≥ 50 % of its current requests are from the issue);
* **alert precision** — alerts raised whose cluster matches a growing burst ÷ all alerts;
* **alert recall** — growing bursts whose matching cluster is alerted ÷ growing bursts;
* the number of clusters made only of background requests, and the clustering time.

The database is not touched. The parameters of `clusters.Params` were set looking at seeds 1–3
only; seeds 4 and up are held out.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path
from random import Random
from statistics import mean
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")

import django  # noqa: E402

django.setup()

from tongban.core.places import aliases  # noqa: E402
from tongban.demo import content as C  # noqa: E402
from tongban.hotspots import text  # noqa: E402
from tongban.hotspots.clusters import Doc, Params, cluster_docs  # noqa: E402

AS_OF = datetime(2026, 11, 20, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
WINDOW = 7

# Planted issues: category an operator would choose, and paraphrases ({p} = where exactly).
ISSUES = [
    ("城乡建设/城市建设和市政管理/自来水供应", [
        "{p}从昨天开始停水，到现在还没有来水", "{p}家里水龙头一滴水都没有，整栋楼都停水了", "{p}突然停水，也没提前通知，饭都做不了",
        "请问{p}什么时候恢复供水，已经停了大半天", "{p}自来水停了一整天，家里老人小孩没水用", "{p}停水停了两天了，自来水公司电话打不通"]),
    ("城乡建设/城市建设和市政管理/电力供应", [
        "{p}又停电了，一天停好几次", "{p}突然断电，冰箱里的菜都坏了", "{p}频繁跳闸停电，供电很不稳定",
        "{p}昨晚停电到现在还没来电", "{p}这个星期已经停电三次了，电压也不稳", "{p}经常无故停电，空调都没法用"]),
    ("城乡建设/城市建设和市政管理/环境卫生", [
        "{p}垃圾堆了好几天没人清运，臭气熏天", "{p}的垃圾桶早就满了没人收，苍蝇到处飞", "{p}垃圾站很多天没清理，味道很大",
        "{p}生活垃圾无人清运，都堆到路边了", "{p}垃圾越堆越多，保洁一直没来拉", "{p}的垃圾点发臭，夏天蚊蝇滋生"]),
    ("环境保护/环境污染/噪音污染", [
        "{p}旁边的工地晚上施工，吵得根本睡不着", "{p}附近建筑工地半夜还在打桩，噪音太大", "{p}工地夜间作业扰民，凌晨一点还在施工",
        "{p}边上的工地每天晚上机器轰鸣，孩子没法休息", "{p}施工单位夜里偷偷施工，噪声扰民"]),
    ("城乡建设/城市建设和市政管理/城市公共设施", [
        "{p}的路灯全都不亮了，晚上黑漆漆一片", "{p}路灯坏了很久没人修，夜里走路看不见", "{p}一整排路灯晚上不亮，出行不安全",
        "{p}路灯不亮已经一个星期，老人晚上摔了一跤", "{p}夜里没有路灯照明，希望赶紧修好"]),
    ("城乡建设/城市建设和市政管理/基础设施", [
        "{p}下水道堵了，污水冒到路面上", "{p}排水管堵塞，污水横流臭得很", "{p}窨井往外冒污水，路都没法走",
        "{p}污水管道堵塞外溢，气味刺鼻", "{p}下水道反水，一楼住户家里进了污水"]),
    ("城乡建设/城市建设和市政管理/燃气供应", [
        "{p}楼道里燃气味很浓，担心漏气", "{p}闻到很重的煤气味，怕是燃气管道泄漏", "{p}燃气管道附近一股臭味，疑似漏气",
        "{p}单元门口天然气味道很大，请派人检查", "{p}总是闻到燃气泄漏的味道，很危险"]),
    ("交通运输/建设管理/设施维护", [
        "{p}一下雨路面就大面积积水，车辆过不去", "{p}道路积水很深，电动车都熄火了", "{p}雨后积水排不出去，行人只能蹚水",
        "{p}路面低洼处积水严重，学生上学要绕路", "{p}每次下雨都积水，排水口被堵住了"]),
    ("城乡建设/城市建设和市政管理/城管执法", [
        "{p}有好几条流浪狗，见人就追", "{p}流浪犬成群，昨天咬伤了一个小孩", "{p}野狗越来越多，晚上不敢出门",
        "{p}流浪狗在小区里乱窜，还咬人", "{p}有很多无主犬，希望赶紧收容"]),
    ("环境保护/环境污染/大气污染", [
        "{p}楼下饭店油烟直排，呛得开不了窗", "{p}餐馆排烟管对着住户窗户，油烟很大", "{p}烧烤店每天晚上油烟弥漫，家里全是味",
        "{p}新开的饭店没装油烟净化器，油烟扰民", "{p}饭馆油烟直接排到居民楼，气味难闻"]),
]
EXTRAS = ["", "", "希望尽快处理。", "已经反映过一次了，还是没人管。", "附近很多住户都有这个问题。", "请相关部门抓紧解决。",
          "麻烦派人来看看。", "这个情况影响很大。"]
TITLES = ["", "反映", "投诉", "求助"]
CATEGORY_NOISE = 0.25  # share of planted requests an operator files under another category


class Slots(dict):
    def __missing__(self, key):
        return ""


def county():
    """(town id, town name, weight, [(village id, village name, urban)])"""
    out, vid = [], 0
    for t, (_key, name, weight, villages) in enumerate(C.TOWNS):
        vs = []
        for vname, _user in villages:
            vid += 1
            vs.append((1000 + vid, vname, vname.endswith("社区")))
        out.append((t + 1, name, weight, vs))
    return out


def where(rng: Random, town_name: str, village_name: str, urban: bool) -> str:
    if urban:
        return rng.choice([f"{town_name}{village_name}{rng.choice(C.ESTATES)}", f"{village_name}{rng.choice(C.ESTATES)}{rng.randint(1, 20)}栋",
                           f"{town_name}{rng.choice(C.ROADS)}{rng.randint(1, 300)}号附近"])
    return rng.choice([f"{town_name}{village_name}{rng.randint(1, 12)}组", f"{village_name}", f"{village_name}村委会旁边"])


def background(rng: Random, n: int, towns) -> list[tuple[str, str, int, int, datetime]]:
    templates = [t for t in C.TEMPLATES if t.type != "praise"]
    real = C.messages()
    weights = [w for _, _, w, _ in towns]
    out = []
    for _ in range(n):
        tid, tname, _, villages = rng.choices(towns, weights=weights)[0]
        vid, vname, urban = rng.choice(villages)
        at = AS_OF - timedelta(seconds=rng.uniform(0, 2 * WINDOW * 86400))
        if rng.random() < 0.7:
            t = rng.choice(templates)
            estate, road, road2 = rng.choice(C.ESTATES), *rng.sample(C.ROADS, 2)
            addr = f"{tname}{vname}{estate}" if urban else f"{tname}{vname}{rng.randint(1, 12)}组"
            slots = Slots(town=tname, village=vname, road=road, road2=road2, estate=estate, shop=rng.choice(C.SHOPS),
                          netbar=rng.choice(C.NETBARS), company=rng.choice(C.COMPANIES), school=rng.choice(C.SCHOOLS),
                          bus=rng.randint(1, 12), n=rng.randint(2, 9), months=rng.randint(2, 8), amount=rng.randrange(8, 160) * 500,
                          addr=addr, place=estate if urban else vname)
            out.append((C.fill(t.title, slots) + " " + C.fill(t.content, slots), t.category, tid, vid, at))
        else:
            m = rng.choice(real)
            out.append((C.localize(m.title, tname) + " " + C.localize(m.detail, tname)[:400], m.category, tid, vid, at))
    return out


def paraphrase(rng: Random, issue, tname, vname, urban) -> str:
    _, phrasings = issue
    body = rng.choice(phrasings).format(p=where(rng, tname, vname, urban))
    title = rng.choice(TITLES)
    return f"{title}{body[:18]} {body}，{rng.choice(EXTRAS)}".strip("，")


def scenario(seed: int, n_background: int, n_growing: int, n_steady: int, category_noise: float = CATEGORY_NOISE):
    rng = Random(seed)
    towns = county()
    docs, truth = [], {}  # truth: doc id → (issue key, kind)
    for text_, category, tid, vid, at in background(rng, n_background, towns):
        docs.append(Doc(len(docs) + 1, text_, at, tid, vid, hash(category) % 10_000, category))
    issues = rng.sample(range(len(ISSUES)), n_growing + n_steady)
    for k, issue_index in enumerate(issues):
        issue = ISSUES[issue_index]
        tid, tname, _, villages = rng.choice(towns)
        vid, vname, urban = rng.choice(villages)
        kind = "growing" if k < n_growing else "steady"
        if kind == "growing":
            times = [AS_OF - timedelta(seconds=rng.uniform(0, 3 * 86400)) for _ in range(rng.randint(5, 12))]
            times += [AS_OF - timedelta(days=WINDOW) - timedelta(seconds=rng.uniform(0, WINDOW * 86400)) for _ in range(rng.randint(0, 1))]
        else:
            times = [AS_OF - timedelta(seconds=rng.uniform(0, WINDOW * 86400)) for _ in range(rng.randint(4, 6))]
            times += [AS_OF - timedelta(days=WINDOW) - timedelta(seconds=rng.uniform(0, WINDOW * 86400)) for _ in range(rng.randint(4, 6))]
        for at in times:
            category = issue[0] if rng.random() >= category_noise else rng.choice(C.TEMPLATES).category
            docs.append(Doc(len(docs) + 1, paraphrase(rng, issue, tname, vname, urban), at, tid, vid, hash(category) % 10_000, category))
            truth[docs[-1].id] = (k, kind)
        for _ in range(rng.randint(2, 4)):  # the same issue elsewhere: not part of the burst
            otid, otname, _, ovillages = rng.choice([t for t in towns if t[0] != tid])
            ovid, ovname, ourban = rng.choice(ovillages)
            at = AS_OF - timedelta(seconds=rng.uniform(0, 2 * WINDOW * 86400))
            docs.append(Doc(len(docs) + 1, paraphrase(rng, issue, otname, ovname, ourban), at, otid, ovid, hash(issue[0]) % 10_000, issue[0]))
    return docs, truth


def evaluate(docs, truth, clusters) -> dict:
    start = AS_OF - timedelta(days=WINDOW)
    created = {d.id: d.created_at for d in docs}
    current_truth = {i: t for i, t in truth.items() if created[i] > start}
    planted: dict[int, set[int]] = {}
    for i, (k, _) in current_truth.items():
        planted.setdefault(k, set()).add(i)
    kinds = {k: kind for k, kind in truth.values()}
    of = {i: k for i, (k, _) in current_truth.items()}

    same_cluster_pairs = correct_pairs = 0
    together: Counter = Counter()
    matched: dict[int, object] = {}
    background_only = 0
    for c in clusters:
        ids = [d.id for d in c.current]
        if not any(i in of for i in ids):
            background_only += 1
        for a, b in combinations(ids, 2):
            if a in of or b in of:
                same_cluster_pairs += 1
                if of.get(a) is not None and of.get(a) == of.get(b):
                    correct_pairs += 1
                    together[of[a]] += 1
        for k, members in planted.items():
            hit = sum(i in members for i in ids)
            if hit >= 0.5 * len(members) and hit >= 0.5 * len(ids):
                matched[k] = c
    all_pairs = sum(len(m) * (len(m) - 1) // 2 for m in planted.values())
    growing = [k for k in planted if kinds[k] == "growing"]
    alerts = [c for c in clusters if c.alert]
    good_alerts = [c for c in alerts if any(matched.get(k) is c for k in growing)]
    return {
        "pair_p": correct_pairs / same_cluster_pairs if same_cluster_pairs else 1.0,
        "pair_r": sum(together.values()) / all_pairs if all_pairs else 1.0,
        "burst_r": len(matched) / len(planted) if planted else 1.0,
        "alert_p": len(good_alerts) / len(alerts) if alerts else 1.0,
        "alert_r": sum(1 for k in growing if k in matched and matched[k].alert) / len(growing) if growing else 1.0,
        "steady_alerted": sum(1 for k in planted if kinds[k] == "steady" and k in matched and matched[k].alert),
        "background_clusters": background_only, "clusters": len(clusters), "alerts": len(alerts),
    }


def seeds(spec: str) -> list[int]:
    if "-" in spec:
        a, b = spec.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in spec.split(",")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="1-10")
    ap.add_argument("--background", type=int, default=3000)
    ap.add_argument("--growing", type=int, default=6)
    ap.add_argument("--steady", type=int, default=3)
    ap.add_argument("--category-noise", type=float, default=CATEGORY_NOISE, help="share of planted requests filed under another category")
    args = ap.parse_args()
    names = {a for _, name, _, villages in C.TOWNS for a, _ in aliases(name)} | {
        a for _, _, _, villages in C.TOWNS for v, _ in villages for a, _ in aliases(v)} | {C.COUNTY[1], C.CITY[1]}
    places = text.place_pattern(tuple(sorted(names)))
    params = Params()
    print(f"hotspots_eval: background {args.background}, growing bursts {args.growing}, steady issues {args.steady}, "
          f"category noise {args.category_noise:.0%}, "
          f"window {WINDOW} days × 2, params threshold={params.threshold} min_count={params.min_count} "
          f"alert: ≥ {params.alert_min_count} in the last {params.alert_days} days and P(Poisson) ≤ {params.alert_p}")
    print(f"{'seed':>4} {'pair P':>7} {'pair R':>7} {'burst R':>8} {'alert P':>8} {'alert R':>8} {'steady⚠':>8} {'bg clu':>7} {'clusters':>8} {'seconds':>8}")
    rows = []
    for seed in seeds(args.seeds):
        docs, truth = scenario(seed, args.background, args.growing, args.steady, args.category_noise)
        t0 = time.perf_counter()
        clusters = cluster_docs(docs, as_of=AS_OF, params=params, places=places)
        seconds = time.perf_counter() - t0
        r = evaluate(docs, truth, clusters) | {"seconds": seconds}
        rows.append(r)
        print(f"{seed:>4} {r['pair_p']:>7.3f} {r['pair_r']:>7.3f} {r['burst_r']:>8.3f} {r['alert_p']:>8.3f} {r['alert_r']:>8.3f} "
              f"{r['steady_alerted']:>8} {r['background_clusters']:>7} {r['clusters']:>8} {seconds:>8.2f}")
    avg = {k: mean(r[k] for r in rows) for k in rows[0]}
    print(f"{'mean':>4} {avg['pair_p']:>7.3f} {avg['pair_r']:>7.3f} {avg['burst_r']:>8.3f} {avg['alert_p']:>8.3f} {avg['alert_r']:>8.3f} "
          f"{avg['steady_alerted']:>8.1f} {avg['background_clusters']:>7.1f} {avg['clusters']:>8.1f} {avg['seconds']:>8.2f}")


if __name__ == "__main__":
    main()
