"""The Celery app and its queues. It imports nothing from any app: each app brings its own tasks and worker hooks."""
