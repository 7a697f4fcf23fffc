"""The audit vocabulary: event codes and their Chinese names (search filter, export, page)."""

ACTIONS = {
    "auth.login": "登录",
    "auth.logout": "退出",
    "auth.login_failed": "登录失败",
    "auth.locked": "账号锁定",
    "auth.ip_throttled": "来源地址限制登录",
    "auth.timeout": "会话超时退出",
    "auth.password_changed": "修改密码",
    "auth.totp_enrolled": "绑定双因素认证",
    "auth.totp_disabled": "解除双因素认证",
    "auth.recovery_used": "使用恢复码登录",
    "auth.recovery_regenerated": "重新生成恢复码",
    "auth.demo_skip": "示范模式跳过安全设置",
    "account.changed": "账号权限变更",
    "account.unlocked": "解除锁定",
    "account.password_reset": "重置密码",
    "account.totp_reset": "重置双因素认证",
    "pii.unmask": "查看完整个人信息",
    "export": "导出数据",
    "case.transition": "工单流转",
    "config.changed": "配置变更",
    "admin.change": "后台数据维护",
    "audit.purge": "清理过期审计记录",
    "audit.export": "导出审计记录",
}


def label(code: str) -> str:
    return ACTIONS.get(code, code)
