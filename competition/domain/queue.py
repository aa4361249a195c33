"""The task queue as an operator sees it (the health check, docs/deployment.md): its backend and,
for the database backend of django-tasks-db, its backlog."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends


def backlog():
    """{"backend": "immediate" | "database" | the backend's class name, and for the database
    backend "waiting" (tasks ready to run), "running", "failed_last_day" and
    "oldest_waiting_seconds" (0 when none waits)}."""
    backend = type(task_backends[DEFAULT_TASK_BACKEND_ALIAS])
    path = f"{backend.__module__}.{backend.__qualname__}"
    if path.startswith("django_tasks_db."):
        from django_tasks_db.models import DBTaskResult

        now = timezone.now()
        waiting = DBTaskResult.objects.ready()
        oldest = waiting.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
        return {
            "backend": "database",
            "waiting": waiting.count(),
            "running": DBTaskResult.objects.running().count(),
            "failed_last_day": DBTaskResult.objects.failed().filter(finished_at__gte=now - timedelta(days=1)).count(),
            "oldest_waiting_seconds": round((now - oldest).total_seconds()) if oldest else 0,
        }
    if path.startswith("django_tasks.backends.immediate."):
        return {"backend": "immediate"}
    return {"backend": path}
