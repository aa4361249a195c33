"""Helpers shared by the tests."""

from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError


def call_import(kind, path, *args):
    """Run competition_import; return (exit code, stdout text) as a shell would see them."""
    out = StringIO()
    try:
        call_command("competition_import", kind, str(path), *args, stdout=out, stderr=StringIO())
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def table_counts():
    """Row counts of every table the imports write, to prove that nothing was written."""
    from wagtail.models import Page, Revision

    from competition.models import (
        Adjustment,
        Agency,
        CommitmentLine,
        Juror,
        JuryScore,
        Submission,
        TargetMilestone,
    )

    models = [Adjustment, Agency, CommitmentLine, JuryScore, Juror, Submission, TargetMilestone, Page, Revision]
    from django.contrib.auth import get_user_model

    models.append(get_user_model())
    return {model.__name__: model.objects.count() for model in models}
