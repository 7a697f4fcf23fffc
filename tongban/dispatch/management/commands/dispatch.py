"""`tongban dispatch …`: the request classifier (智能派单).

    tongban dispatch evaluate --train TRAIN.csv --test TEST.csv [--predictions OUT.csv]
    tongban dispatch evaluate --train ALL.csv --cv 5

CSV columns: id,title,detail,category (others ignored). The last line printed is always
`macro_f1=0.xxx`. Subcommands that use the database (train, rollback) come later.
"""
from __future__ import annotations

import csv

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "智能派单：诉求分类模型（evaluate：离线评估；train / rollback 待实现）"
    # evaluate is offline and touches no model or database: skip the system checks.
    requires_system_checks = []

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="{evaluate}", required=True)
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

    def handle(self, *args, action, **options):
        if action == "evaluate":
            self.evaluate(**options)

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
