from django.apps import AppConfig


class AnnotationConfig(AppConfig):
    name = "annotation"
    verbose_name = "Annotation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Celery's autodiscovery imports `annotation.tasks` only; quality control's task lives beside it.
        from annotation import tasks_quality  # noqa: F401
