from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Connect the training reaper to Celery's worker signals (they only fire in worker processes)."""
        from celery.signals import worker_ready, worker_shutdown

        from training import heartbeat

        worker_ready.connect(heartbeat.heartbeat_start, weak=False, dispatch_uid="training-heartbeat-start")
        worker_shutdown.connect(heartbeat.heartbeat_stop, weak=False, dispatch_uid="training-heartbeat-stop")
