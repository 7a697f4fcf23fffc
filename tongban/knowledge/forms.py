from django import forms

from tongban.cases.models import Category
from tongban.core.models import Unit

from .models import Article


class ArticleForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ["title", "questions", "answer", "category", "keywords", "owner", "region", "valid_from", "valid_to", "review_due"]
        widgets = {
            "questions": forms.Textarea(attrs={"rows": 4, "placeholder": "每行一种问法，如：身份证丢了怎么办"}),
            "answer": forms.Textarea(attrs={"rows": 10}),
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_to": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "review_due": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, user=None, reviewer=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(active=True, level=3).order_by("full_name")
        self.fields["category"].label_from_instance = lambda c: c.full_name
        units = Unit.objects.filter(active=True)
        if not reviewer and user is not None:
            units = units.filter(pk=user.unit_id)
            self.fields["owner"].initial = user.unit_id
        self.fields["owner"].queryset = units.order_by("path")
        self.fields["owner"].required = True


class ImportForm(forms.Form):
    file = forms.FileField(label="Excel 文件（.xlsx）")
    submit = forms.BooleanField(label="导入后直接提交审核", required=False)
