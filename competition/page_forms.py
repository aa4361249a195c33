"""Admin forms of the competition's pages: they tie a new target or commitment page to the
competition it is created under, before the model's own validation runs."""

from wagtail.admin.forms import WagtailAdminPageForm


class CompetitionChildPageForm(WagtailAdminPageForm):
    def clean(self):
        cleaned_data = super().clean()
        if self.instance.competition_id is None and self.parent_page is not None:
            parent = self.parent_page.specific
            # The page model refuses any other parent; here the parent is a competition page.
            if parent.__class__.__name__ == "CompetitionPage":
                self.instance.competition = parent
        return cleaned_data
