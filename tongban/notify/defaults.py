"""The wording each template starts with (and returns to on “恢复默认”). Placeholders in braces."""

PLACEHOLDERS = {
    "site": "平台名称（设置 NOTIFY_SITE_NAME）",
    "number": "工单编号",
    "title": "诉求标题",
    "name": "诉求人称呼（未留称呼时为“您好”）",
    "unit": "承办单位",
    "reply": "答复意见",
    "reply_short": "答复意见（前60字）",
    "due": "办结期限",
    "track_url": "查询进度的网址",
    "rate_url": "评价的网址",
    "code": "验证码（预约成功短信中为预约号）",
    "minutes": "验证码有效分钟数",
    "matter": "办理事项",
    "materials": "需补交的材料",
    "deadline": "补交期限",
    "when": "预约时段",
    "hall": "办事大厅",
    "group": "窗口组",
    "cancel_url": "取消预约的网址",
}

# code → (name, {channel: (subject, body)})
DEFAULTS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "received": ("受理回执", {
        "sms": ("", "【{site}】{name}，您反映的“{title}”已受理，编号{number}。凭编号和本手机号可查询办理进度：{track_url}"),
        "email": ("诉求已受理（编号{number}）",
                  "{name}：\n\n您反映的“{title}”已受理，编号 {number}。\n我们将按时限转交承办单位办理并答复您。\n"
                  "查询办理进度：{track_url}\n\n{site}"),
        "site": ("新诉求已受理：{number}", "{title}"),
    }),
    "finished": ("办结通知", {
        "sms": ("", "【{site}】{name}，您反映的诉求（编号{number}）已由{unit}办结。答复：{reply_short}"),
        "email": ("诉求已办结（编号{number}）",
                  "{name}：\n\n您反映的“{title}”（编号 {number}）已由{unit}办结。\n\n答复意见：\n{reply}\n\n"
                  "查看详情：{track_url}\n\n{site}"),
        "site": ("工单已办结：{number}", "{unit}已办结“{title}”。答复：{reply_short}"),
    }),
    "callback_invite": ("回访邀请", {
        "sms": ("", "【{site}】{name}，您反映的诉求（编号{number}）已办结，请对办理结果作出评价：{rate_url}"),
        "email": ("请评价诉求办理结果（编号{number}）",
                  "{name}：\n\n您反映的“{title}”（编号 {number}）已办结。请在这里告诉我们是否满意、问题是否解决：\n{rate_url}\n\n"
                  "您的评价将作为考核承办单位的依据。\n\n{site}"),
        "site": ("工单待回访：{number}", "“{title}”已办结，等待诉求人评价。"),
    }),
    "extended": ("延期告知", {
        "sms": ("", "【{site}】{name}，您反映的诉求（编号{number}）因办理需要，办结期限延长至{due}，敬请谅解。查询进度：{track_url}"),
        "email": ("诉求办理期限延长（编号{number}）",
                  "{name}：\n\n您反映的“{title}”（编号 {number}）因办理需要，办结期限延长至 {due}。\n"
                  "查询进度：{track_url}\n\n{site}"),
        "site": ("延期申请已批准：{number}", "“{title}”的办结期限延长至 {due}。"),
    }),
    "supplement_reminder": ("容缺补件提醒", {
        "sms": ("", "【{site}】{name}，您办理的“{matter}”（编号{number}）已容缺受理，请于{deadline}前补交：{materials}。"),
        "email": ("请补交材料（编号{number}）",
                  "{name}：\n\n您办理的“{matter}”（编号 {number}）已容缺受理。请于 {deadline} 前补交以下材料：\n{materials}\n\n{site}"),
        "site": ("待补件：{number}", "“{matter}”需在 {deadline} 前补交：{materials}"),
    }),
    "hall_rate_invite": ("好差评邀请", {
        "sms": ("", "【{site}】{name}，您办理的“{matter}”（编号{number}）已办结出件，请对我们的服务作出评价：{rate_url}"),
        "email": ("请评价政务服务（编号{number}）",
                  "{name}：\n\n您办理的“{matter}”（编号 {number}）已办结出件。请告诉我们您对这次服务是否满意：\n{rate_url}\n\n"
                  "差评将由政务服务中心核实整改并回访。\n\n{site}"),
    }),
    "booking_confirm": ("预约成功", {
        "sms": ("", "【{site}】{name}，您已预约{when}到{hall}{group}办理“{matter}”，预约号{code}。请带齐材料按时到达；如需取消：{cancel_url}"),
        "email": ("预约成功（预约号{code}）",
                  "{name}：\n\n您已预约 {when} 到{hall}{group}办理“{matter}”，预约号 {code}。\n请带齐材料按时到达。\n"
                  "如需取消，请在时段开始前访问 {cancel_url} ，填写预约号和手机号。\n\n{site}"),
    }),
    "verify_code": ("验证码", {
        "sms": ("", "【{site}】验证码{code}，{minutes}分钟内有效，用于查询您的诉求办理情况。如非本人操作，请忽略本短信。"),
        "email": ("验证码 {code}", "您的验证码是 {code}，{minutes} 分钟内有效。如非本人操作，请忽略。\n\n{site}"),
    }),
}


def install(apps, codes=None) -> None:
    """Data migrations: create the rows of these template codes (all when None) that are missing."""
    Template = apps.get_model("notify", "Template")
    for code in codes or DEFAULTS:
        name, channels = DEFAULTS[code]
        for channel, (subject, body) in channels.items():
            Template.objects.get_or_create(code=code, channel=channel, defaults={"name": name, "subject": subject, "body": body})


def uninstall(apps, codes=None) -> None:
    apps.get_model("notify", "Template").objects.filter(code__in=list(codes or DEFAULTS)).delete()
