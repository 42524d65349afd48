"""The baseline: a bare Flask endpoint that answers a constant TwiML string."""

from flask import Flask, Response

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello</Say></Response>'
app = Flask(__name__)


@app.post("/voice/incoming")
def incoming() -> Response:
    return Response(TWIML, mimetype="text/xml")
