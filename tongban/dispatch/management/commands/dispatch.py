"""`tongban dispatch …`: the request classifier (智能派单).

    tongban dispatch evaluate --train TRAIN.csv --test TEST.csv [--predictions OUT.csv]
    tongban dispatch evaluate --train ALL.csv --cv 5
    tongban dispatch train [--from-file FILE.csv|.xlsx] [--limit N] [--activate]
    tongban dispatch rollback [--to N]
    tongban dispatch models

evaluate: CSV columns id,title,detail,category (others ignored); the last line printed is always
`macro_f1=0.xxx`. train/rollback/models manage the routing model versions in the database.
"""
from __future__ import annotations

import csv

from django.core.management.base import BaseCommand, CommandError
from django.utils.timezone import localtime


class Command(BaseCommand):
    help = "智能派单：evaluate 离线评估分类器；train 训练新版本；rollback 回滚；models 列出版本"
    # evaluate is offline and touches no model or database: skip the system checks.
    requires_system_checks = []

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="{evaluate,train,rollback,models}", required=True)
        evaluate = actions.add_parser(
            "evaluate",
            help="在 TRAIN 上训练新模型、在 TEST 上评估；或在 TRAIN 上做 K 折交叉验证",
            description="训练集只用于训练；最后一行输出 macro_f1=0.xxx",
        )
        evaluate.add_argument("--train", required=True, metavar="TRAIN", help="训练集 CSV（id,title,detail,category）")
        evaluate.add_argument("--test", metavar="TEST", help="测试集 CSV（同样的列）")
        evaluate.add_argument("--cv", type=int, metavar="K", help="不给 --test 时：分层 K 折交叉验证（固定随机种子）")
        evaluate.add_argument(
            "--predictions", metavar="OUT", help="把逐条预测写入此 CSV（id,category,predicted,confidence）"
        )

        train = actions.add_parser(
            "train", help="用已办结工单与纠错样本（或 --from-file 文件）训练新的派单模型版本",
            description="在最近 20% 的数据上留出评估；不比当前版本差则启用（--activate 总是启用）")
        train.add_argument("--from-file", metavar="FILE", help="CSV（UTF-8）或 XLSX：title,detail,category[,unit][,address]")
        train.add_argument("--limit", type=int, default=None, metavar="N", help="最多用最近 N 条（默认 3000）")
        train.add_argument("--activate", action="store_true", help="无论评估结果如何都启用新版本")
        rollback = actions.add_parser("rollback", help="回到上一个（或指定的）模型版本")
        rollback.add_argument("--to", type=int, metavar="N", help="版本号；不给则回到当前版本之前最近的一个")
        actions.add_parser("models", help="列出模型版本及其评估")

    def handle(self, *args, action, **options):
        if action == "evaluate":
            self.evaluate(**options)
        elif action == "train":
            self.train(**options)
        elif action == "rollback":
            self.rollback(**options)
        elif action == "models":
            self.list_models()

    def train(self, from_file=None, limit=None, activate=False, **_):
        from tongban.dispatch import learning

        limit = limit or learning.DEFAULT_LIMIT
        if limit < 10:
            raise CommandError("--limit 至少为 10")
        try:
            if from_file:
                examples = learning.examples_from_file(from_file)
                self.stdout.write(f"从文件 {from_file} 读入 {len(examples)} 条")
                v = learning.train(examples=examples, limit=limit, trigger="file", source=str(from_file)[:200],
                                   activate=True if activate else None)
            else:
                v = learning.train(limit=limit, activate=True if activate else None)
        except learning.TrainingError as e:
            raise CommandError(str(e)) from None
        self.stdout.write(f"模型 v{v.number}：训练 {v.n_train} 条（办结工单 {v.n_cases}、纠错样本 {v.n_labels}），"
                          f"留出最近 {v.n_test} 条评估，用时 {v.train_seconds:.1f} 秒，文件 {v.file_bytes / 1e6:.1f} MB")
        for line in _metrics(v):
            self.stdout.write(line)
        self.stdout.write("已启用" if v.activated else f"未启用：{v.note}")

    def rollback(self, to=None, **_):
        from tongban.dispatch import learning

        try:
            v = learning.rollback(to)
        except learning.TrainingError as e:
            raise CommandError(str(e)) from None
        self.stdout.write(f"已启用模型 v{v.number}（{localtime(v.created_at):%Y-%m-%d %H:%M} 训练）")

    def list_models(self):
        from tongban.dispatch.models import AutoDispatchSettings, ModelVersion

        in_use = AutoDispatchSettings.get().model_id
        versions = list(ModelVersion.objects.all())
        if not versions:
            self.stdout.write("还没有模型版本：运行 tongban dispatch train")
            return
        self.stdout.write("版本  启用  训练时间          触发     训练条数  分类准确率  派单准确率  派单前三")
        for v in versions:
            pct = lambda x: "—" if x is None else f"{x:.3f}"  # noqa: E731
            self.stdout.write(f"v{v.number:<4} {'✔' if v.pk == in_use else ' ':<4} {localtime(v.created_at):%Y-%m-%d %H:%M}  {v.trigger:<8} "
                              f"{v.n_train:>8}  {pct(v.category_accuracy):>10}  {pct(v.unit_accuracy):>10}  {pct(v.unit_top3):>8}")

    def evaluate(self, train, test=None, cv=None, predictions=None, **_):
        from tongban.dispatch.dataset import DatasetError, read_labelled_csv

        if (test is None) == (cv is None):
            raise CommandError("请给出 --test TEST（训练/测试评估）或 --cv K（交叉验证）二者之一")
        try:
            train_rows = read_labelled_csv(train)
            test_rows = read_labelled_csv(test) if test is not None else None
            from tongban.dispatch import evaluation  # numpy/sklearn: only once the files are read

            if test_rows is not None:
                result = evaluation.evaluate_split(train_rows, test_rows)
            else:
                result = evaluation.cross_validate(train_rows, cv)
        except DatasetError as e:
            raise CommandError(str(e)) from None

        train_classes = {m.category for m in train_rows}
        if test is not None:
            self.stdout.write(
                f"训练集 {train}：{len(train_rows)} 条，{len(train_classes)} 类；测试集 {test}：{len(test_rows)} 条"
            )
            unseen = sorted({m.category for m in test_rows} - train_classes)
            if unseen:
                self.stdout.write(f"注意：测试集中的类别 {'、'.join(unseen)} 训练集里没有，不可能被预测对")
        else:
            self.stdout.write(
                f"数据集 {train}：{len(train_rows)} 条，{len(train_classes)} 类；"
                f"分层 {cv} 折交叉验证（随机种子 {evaluation.CV_SEED}）"
            )
        self.stdout.write("")
        for line in evaluation.class_table(result):
            self.stdout.write(line)
        self.stdout.write("")
        for line in evaluation.summary_lines(result):
            self.stdout.write(line)
        if cv is not None:
            folds = " ".join(f"{f:.3f}" for f in result.fold_f1)
            self.stdout.write(
                f"各折 macro-F1：{folds}（均值 {sum(result.fold_f1) / len(result.fold_f1):.3f}）；"
                "以上及最后一行为全部折外预测合并计算"
            )
        if predictions:
            self._write_predictions(predictions, result)
        self.stdout.write(f"macro_f1={result.macro_f1:.3f}")

    def _write_predictions(self, path, result):
        try:
            with open(path, "w", encoding="utf-8", newline="") as f:
                out = csv.writer(f)
                out.writerow(["id", "category", "predicted", "confidence"])
                for row in zip(result.ids, result.truth, result.predicted, result.confidence, strict=True):
                    out.writerow([*row[:3], f"{row[3]:.4f}"])
        except OSError as e:
            raise CommandError(f"无法写入预测文件 {path}：{e.strerror}") from None
        self.stdout.write(f"逐条预测已写入 {path}")


def _metrics(v) -> list[str]:
    def pct(x):
        return "—" if x is None else f"{x:.3f}"

    return [f"  分类（一级）：准确率 {pct(v.category_accuracy)}，宏平均 F1 {pct(v.category_f1)}",
            f"  承办单位：准确率 {pct(v.unit_accuracy)}，宏平均 F1 {pct(v.unit_f1)}，前三命中率 {pct(v.unit_top3)}"]
