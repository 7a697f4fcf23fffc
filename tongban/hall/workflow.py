"""办件 (window applications) and 整改 (rectification after a 差评), declared as data.

Actors: the hall's clerks act as the unit that sent the case to the department ("sender"),
or as its holder while the hall itself holds it (at the window, a package's parent case,
an item forwarded to another region); the owning department's staff are the "holder" of a
sub-case or single-item case (后台分类审批). "system" is the product itself (package
completion, the 容缺 lapse job).
"""
from tongban.cases.workflow import Transition, Workflow, register
from tongban.core.models import Role

C, H, U, S = Role.CLERK, Role.HANDLER, Role.UNIT_ADMIN, Role.SUPERVISOR

HALL = register(Workflow(
    code="hall",
    label="政务服务办件",
    states={
        "received": "待受理",
        "reviewing": "审批中",
        "deferred": "容缺待补",
        "correction": "补正中",
        "remote": "异地办理中",
        "approved": "待出件",
        "rejected": "不予许可待送达",
        "done": "已办结",
        "refused": "不予受理",
        "terminated": "已终止",
    },
    initial="received",
    final=frozenset({"done", "refused", "terminated"}),
    running=frozenset({"reviewing", "deferred", "remote"}),
    transitions={t.action: t for t in [
        # 前台综合受理 (the case is still held by the hall)
        Transition("accept", "综合受理", ("received",), ("reviewing",), "holder", (C,)),
        Transition("accept_deferred", "容缺受理", ("received",), ("deferred",), "holder", (C,)),
        Transition("refuse_window", "不予受理", ("received",), ("refused",), "holder", (C,)),
        # 容缺: the applicant supplies the missing material, or the promised deadline lapses
        Transition("supplement", "补齐材料", ("deferred", "correction", "approved"), ("reviewing", "approved"), "sender", (C,)),
        Transition("lapse", "容缺逾期", ("deferred", "approved"), ("correction",), "system"),
        Transition("terminate", "终止办理", ("correction",), ("terminated",), "sender", (C,)),
        Transition("terminate_part", "随套餐终止", ("reviewing", "deferred", "correction", "approved", "rejected"), ("terminated",), "system"),
        # 后台分类审批 by the owning department
        Transition("approve", "审批通过", ("reviewing", "deferred"), ("approved",), "holder", (H, U)),
        Transition("reject", "不予许可", ("reviewing", "deferred"), ("rejected",), "holder", (H, U)),
        Transition("request_correction", "要求补正", ("reviewing",), ("correction",), "holder", (H, U)),
        # a package's parent case: every sub-case has been decided
        Transition("complete", "并联审批完成", ("reviewing", "deferred"), ("approved",), "system"),
        # 跨省通办 / 全域通办: the hall forwards to the owning authority and records its answers
        Transition("forward", "转递受理地", ("reviewing",), ("remote",), "sender", (C,)),
        Transition("remote_update", "记录异地办理进展", ("remote",), (), "sender", (C,)),
        Transition("remote_result", "登记异地办理结果", ("remote",), ("approved", "rejected"), "sender", (C,)),
        # 统一窗口出件
        Transition("issue", "出件（办结）", ("approved", "rejected"), ("done",), "sender", (C,)),
        Transition("issue_part", "随套餐出件", ("approved", "rejected"), ("done",), "system"),
        Transition("rate", "好差评", ("done",), (), "system"),
    ]},
))

RECTIFY = register(Workflow(
    code="hall_rectify",
    label="差评整改",
    states={"rectifying": "整改中", "pending_callback": "待回访", "closed": "已办结"},
    initial="rectifying",
    final=frozenset({"closed"}),
    running=frozenset({"rectifying"}),
    transitions={t.action: t for t in [
        Transition("rectified", "提交整改情况", ("rectifying",), ("pending_callback",), "holder", (H, U)),
        Transition("rectify_callback", "整改回访", ("pending_callback",), ("closed", "rectifying"), "sender", (C, U, S)),
    ]},
))
