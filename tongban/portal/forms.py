"""Portal forms: plain fields with Chinese labels; the rules live in services.check."""
from django import forms

from tongban.hotline.choices import Satisfaction

from .services import case_types


class SubmitForm(forms.Form):
    case_type = forms.ModelChoiceField(queryset=None, label="诉求类型", widget=forms.RadioSelect, empty_label=None,
                                       error_messages={"required": "请选择诉求类型。", "invalid_choice": "请选择诉求类型。"})
    title = forms.CharField(label="标题（可不填）", required=False, max_length=60,
                            widget=forms.TextInput(attrs={"placeholder": "一句话说明问题，如：小区门口路灯不亮"}))
    content = forms.CharField(label="诉求内容", widget=forms.Textarea(attrs={"rows": 5, "placeholder": "发生了什么、在哪里、希望怎样解决"}),
                              error_messages={"required": "请填写诉求内容。"})
    requester_name = forms.CharField(label="您的称呼（可不填）", required=False, max_length=32,
                                     widget=forms.TextInput(attrs={"placeholder": "如：王女士", "autocomplete": "name"}))
    requester_phone = forms.CharField(label="手机号", max_length=20, error_messages={"required": "请填写手机号。"},
                                      widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel", "placeholder": "用于接收回执、结果和验证码"}))
    address = forms.CharField(label="问题发生地点", required=False, max_length=150,
                              widget=forms.TextInput(attrs={"placeholder": "如：柳泉镇桃园村三组", "autocomplete": "street-address"}))
    latitude = forms.CharField(required=False, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, widget=forms.HiddenInput)
    website = forms.CharField(required=False, label="网址（请留空）")  # honeypot: people never see it
    key = forms.CharField(required=False, widget=forms.HiddenInput)
    # photos (up to 3) are read from request.FILES and checked by services.check

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_type"].queryset = case_types()


class TrackForm(forms.Form):
    number = forms.CharField(label="工单编号", max_length=20, error_messages={"required": "请填写工单编号。"},
                             widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "如：2026112300123"}))
    phone = forms.CharField(label="提交时留的手机号", max_length=20, error_messages={"required": "请填写手机号。"},
                            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}))
    code = forms.CharField(label="短信验证码", max_length=6, required=False,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "placeholder": "6位数字"}))


class RateForm(forms.Form):
    satisfaction = forms.ChoiceField(label="您对办理结果是否满意", choices=Satisfaction.choices, widget=forms.RadioSelect,
                                     error_messages={"required": "请选择满意程度。"})
    solved = forms.TypedChoiceField(label="您的问题是否已解决", choices=[("1", "已解决"), ("0", "未解决")], coerce=lambda v: v == "1",
                                    widget=forms.RadioSelect, error_messages={"required": "请选择问题是否已解决。"})
    note = forms.CharField(label="还想说的（可不填）", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class GenerateForm(forms.Form):
    village = forms.ModelChoiceField(queryset=None, label="村/社区", error_messages={"required": "请选择村或社区。"})
    count = forms.IntegerField(label="数量", min_value=1, max_value=5000, initial=50)
    street = forms.CharField(label="路/组名（可不填）", required=False, max_length=30, widget=forms.TextInput(attrs={"placeholder": "如：幸福路、三组"}))
    start = forms.IntegerField(label="起始号", min_value=1, initial=1)
    csv = forms.FileField(label="或上传住户清单 CSV（列：门牌号，地址，网格）", required=False)

    def __init__(self, *args, villages=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages
        self.fields["village"].label_from_instance = lambda r: f"{r.parent.name if r.parent_id else ''} {r.name}"


class BookForm(forms.Form):
    slot = forms.IntegerField(widget=forms.HiddenInput, required=False)  # the radio buttons are drawn by the template
    name = forms.CharField(label="姓名", max_length=32, error_messages={"required": "请填写姓名。"},
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    phone = forms.CharField(label="手机号", max_length=20, error_messages={"required": "请填写手机号。"},
                            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel", "placeholder": "接收预约号短信"}))
    subject = forms.CharField(label="办理什么事（可不填）", required=False, max_length=100,
                              widget=forms.TextInput(attrs={"placeholder": "如：营业执照、不动产登记"}))
    website = forms.CharField(required=False, label="网址（请留空）")  # honeypot


class CancelBookingForm(forms.Form):
    code = forms.CharField(label="预约号", max_length=12, error_messages={"required": "请填写预约号。"},
                           widget=forms.TextInput(attrs={"placeholder": "短信里的预约号，如 Y112501203"}))
    phone = forms.CharField(label="预约时填写的手机号", max_length=20, error_messages={"required": "请填写手机号。"},
                            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}))
