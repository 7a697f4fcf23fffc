"""接诉即办: the hotline request workflow, declared as data."""
from tongban.cases.workflow import Transition, Workflow, register
from tongban.core.models import Role

O, D, H, U, S = Role.OPERATOR, Role.DISPATCHER, Role.HANDLER, Role.UNIT_ADMIN, Role.SUPERVISOR
OPEN = ("pending_dispatch", "pending_sign", "disputed", "handling", "suspended")

HOTLINE = register(Workflow(
    code="hotline",
    label="接诉即办",
    states={
        "pending_dispatch": "待派单",
        "pending_sign": "待签收",
        "disputed": "退回待审",
        "handling": "办理中",
        "suspended": "已挂起",
        "pending_callback": "待回访",
        "closed": "已办结",
        "refused": "不予受理",
        "merged": "重复件已并案",
    },
    initial="pending_dispatch",
    final=frozenset({"closed", "refused"}),
    running=frozenset({"pending_sign", "disputed", "handling"}),
    transitions={t.action: t for t in [
        Transition("answer", "直接答复", ("pending_dispatch",), ("pending_callback",), "centre", (O, D)),
        Transition("refuse", "不予受理", ("pending_dispatch",), ("refused",), "centre", (O, D)),
        Transition("merge", "并案（重复件）", ("pending_dispatch",), ("merged",), "centre", (O, D)),
        Transition("dispatch", "派单", ("pending_dispatch",), ("pending_sign",), "centre", (O, D)),
        Transition("relay", "下派", ("pending_sign", "handling"), ("pending_sign",), "holder", (D, U)),
        Transition("sign", "签收", ("pending_sign",), ("handling",), "holder", (H, U, D)),
        Transition("return", "退回（派单异议）", ("pending_sign", "handling"), ("disputed",), "holder", (H, U, D)),
        Transition("reassign", "同意退回并改派", ("disputed",), ("pending_sign",), "sender", (D,)),
        Transition("keep", "驳回退回", ("disputed",), ("handling",), "sender", (D,)),
        Transition("request_extension", "申请延期", ("handling",), (), "holder", (H, U)),
        Transition("decide_extension", "审批延期", ("handling", "suspended"), (), "supervisor", (S,)),
        Transition("progress", "记录进展", ("handling", "suspended"), (), "holder", (H, U, D)),
        Transition("suspend", "挂起", ("handling",), ("suspended",), "holder", (H, U)),
        Transition("resume", "恢复办理", ("suspended",), ("handling",), "holder", (H, U)),
        Transition("finish", "办结", ("handling",), ("pending_callback",), "holder", (H, U)),
        Transition("callback", "回访", ("pending_callback",), ("pending_callback", "closed", "handling"), "centre", (O, S)),
        Transition("supervise", "督办", OPEN, (), "supervisor", (S,)),
        Transition("close_duplicate", "随原件办结", ("merged",), ("closed",), "system"),
        # a requester's comment arriving through a 311 app (Open311 servicerequestupdates); any state
        Transition("supplement", "诉求人补充", (*OPEN, "pending_callback", "closed", "refused", "merged"), (), "system"),
    ]},
))
