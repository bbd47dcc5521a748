"""The project's configuration: settings, URLs, WSGI/ASGI entry points.

Loading the Celery app here makes it the current app of every Django process, so that tasks sent from the web
process or a command go to the configured broker.
"""

from workers.celery import app as celery_app

__all__ = ["celery_app"]
