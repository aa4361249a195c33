"""The app's roles as Django groups with the permissions they need in the Wagtail admin.
`python manage.py competition_roles` (or `ensure_roles()`) creates or completes them."""

from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _
from wagtail.models import GroupPagePermission, Site

MANAGERS = "Competition managers"
EDITORS = "Agency editors"
REVIEWERS = "Jury reviewers"

ROLE_LABELS = {MANAGERS: _("Competition managers"), EDITORS: _("Agency editors"), REVIEWERS: _("Jury reviewers")}

MANAGER_MODEL_PERMISSIONS = [
    f"competition.{action}_{model}"
    for model in ("agency", "agencymembership", "juror", "adjustment", "feedtoken", "reviewpanel")
    for action in ("add", "change", "delete", "view")
] + ["competition.view_declaredconflict"]
MANAGER_PAGE_PERMISSIONS = ["add_page", "change_page", "publish_page", "lock_page", "unlock_page"]


def _permission(dotted):
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def ensure_roles():
    """Create the three groups and grant what each role needs; safe to run again."""
    admin_access = _permission("wagtailadmin.access_admin")
    groups = {}
    for name in (MANAGERS, EDITORS, REVIEWERS):
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(admin_access)
        groups[name] = group
    groups[MANAGERS].permissions.add(*[_permission(dotted) for dotted in MANAGER_MODEL_PERMISSIONS])
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is not None:
        for codename in MANAGER_PAGE_PERMISSIONS:
            GroupPagePermission.objects.get_or_create(
                group=groups[MANAGERS], page=site.root_page, permission=_permission(f"wagtailcore.{codename}")
            )
    return groups
