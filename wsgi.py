"""The WSGI entry point: `gunicorn wsgi:app` (production) and `flask --app wsgi ...` (commands)."""

from ivr import create_app

app = create_app()
