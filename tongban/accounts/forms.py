from django import forms
from django.contrib.auth import password_validation

from tongban.core.models import Role


class LoginForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    password = forms.CharField(label="密码", strip=False, widget=forms.PasswordInput)


class CodeForm(forms.Form):
    code = forms.CharField(label="验证码", max_length=20, widget=forms.TextInput(attrs={
        "autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}))


class NewPasswordForm(forms.Form):
    """Change one's password; the old one is asked only when logged in (the login step just checked it)."""

    old_password = forms.CharField(label="当前密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password1 = forms.CharField(label="新密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                    help_text=password_validation.password_validators_help_text_html())
    new_password2 = forms.CharField(label="再次输入新密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, user, *args, ask_old=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if not ask_old:
            del self.fields["old_password"]

    def clean_old_password(self):
        value = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError("当前密码不正确。")
        return value

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("new_password1"), data.get("new_password2")
        if p1 and p2 and p1 != p2:
            self.add_error("new_password2", "两次输入的新密码不一致。")
        elif p1:
            if self.user.check_password(p1):
                self.add_error("new_password1", "新密码不能与当前密码相同。")
            else:
                try:
                    password_validation.validate_password(p1, self.user)
                except forms.ValidationError as exc:
                    self.add_error("new_password1", exc)
        return data


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(label="角色", choices=Role.choices, required=False, widget=forms.CheckboxSelectMultiple)
