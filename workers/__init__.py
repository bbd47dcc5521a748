"""The Celery app, its queues and routing, and the worker-side heartbeat."""
