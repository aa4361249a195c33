"""Account → Profile without invented names (Wagtail's account settings panels).

Wagtail's account screen saves every panel at once, and its name and e-mail panel requires a
first name, a last name and an e-mail address: a user created without them (by
`createsuperuser`, an import of accounts or a single sign-on) could not change their language or
time zone without inventing a name. Here each of those fields is required only once the user has
one: nobody is made to make one up, and nobody empties a name or address they gave by mistake."""

from wagtail.admin.forms.account import NameEmailForm


class AccountNameEmailForm(NameEmailForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.required = bool(getattr(self.instance, name, ""))


def use_account_name_email_form():
    """Give Wagtail's name and e-mail settings panel this form (its `form_class`, the attribute
    through which Wagtail's settings panels name their form)."""
    from wagtail.admin.views.account import NameEmailSettingsPanel

    NameEmailSettingsPanel.form_class = AccountNameEmailForm
