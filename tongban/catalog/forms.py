from django import forms


class ImportForm(forms.Form):
    file = forms.FileField(label="Excel 文件（.xlsx）")
