"""gunicorn's settings for `make run`: a development server that picks up edits.

A change to a flow module (ivr/, watched as loaded code) or to a prompt catalog in prompts/ restarts
the workers, so the next call hears it. In production, leave reload off and send the gunicorn master
SIGHUP after `flask --app wsgi flows check` passes: it starts new workers on the new files.
"""

from pathlib import Path

PROMPTS = Path(__file__).resolve().parent / "prompts"

bind = "127.0.0.1:5000"
workers = 2
accesslog = "-"
reload = True
# The folder too, so that a new language's catalog is noticed.
reload_extra_files = [str(PROMPTS), *(str(path) for path in sorted(PROMPTS.glob("*.yaml")))]
# No control socket in $HOME: one developer may run several checkouts.
control_socket_disable = True
