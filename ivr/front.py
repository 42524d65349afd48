"""The server's front page (/): a person who opens the server's address finds the help centre and the
agents' desk there instead of a 404. Callers never come here: Twilio posts to /voice."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template_string, url_for

from ivr.headers import with_styles

bp = Blueprint("front", __name__)

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ company }} phone line</title>
  <style>{{ style }}</style>
</head>
<body>
  <h1>{{ company }} phone line</h1>
  <p>This server answers the company's telephone line.</p>
  <ul>
    <li><a href="{{ help }}">The help centre</a>: answers to common questions, for customers online.</li>
    <li><a href="{{ desk }}">The agents' desk</a>: the messages callers left, the team, the supervisors' insights.</li>
  </ul>
  <p>Callers reach it by phone: Twilio sends each call to <code>{{ incoming }}</code>.</p>
</body>
</html>
"""


STYLE = "body { font: 1rem/1.5 system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; }"


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    page = render_template_string(
        PAGE,
        style=STYLE,
        company=current_app.config["COMPANY_NAME"],
        desk=url_for("agents.queue_page"),
        help=url_for("help.home"),
        incoming=url_for("voice.incoming"),
    )
    return page, {"Content-Security-Policy": with_styles(STYLE)}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
