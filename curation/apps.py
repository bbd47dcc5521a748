from django.apps import AppConfig
from django.conf import settings


class CurationConfig(AppConfig):
    name = "curation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Load step plugins, and connect this app's worker hooks (heartbeat and reaper) to Celery's signals.

        Connecting here instead of in the Celery app keeps `workers/` free of imports from any app; the signals
        only fire in worker processes.
        """
        from celery.signals import beat_init, worker_ready, worker_shutdown

        from curation import heartbeat
        from curation.services.quality_models import quality_model_registries
        from curation.steps import quality_classifier

        # Workers load quality-classifier models only from the configured registries (read at each load).
        quality_classifier.model_registries = quality_model_registries

        if settings.CURATION_STEP_PLUGINS:
            # Only then: importing the registry imports every step module (half a second of start-up).
            from curation.steps.registry import load_step_plugins

            load_step_plugins(settings.CURATION_STEP_PLUGINS)
        worker_ready.connect(heartbeat.heartbeat_start, weak=False, dispatch_uid="curation-heartbeat-start")
        worker_shutdown.connect(heartbeat.heartbeat_stop, weak=False, dispatch_uid="curation-heartbeat-stop")
        beat_init.connect(heartbeat.scheduler_heartbeat_start, weak=False, dispatch_uid="curation-scheduler-heartbeat")
