"""The baseline: a bare Flask endpoint that answers a constant TwiML string, and a constant queue
for the API clients of the control row (the same client work, served outside the IVR)."""

from flask import Flask, Response, jsonify, request

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello</Say></Response>'
QUEUE_ETAG = "constant"
app = Flask(__name__)


@app.post("/voice/incoming")
def incoming() -> Response:
    return Response(TWIML, mimetype="text/xml")


@app.get("/agent/api/messages")
def queue() -> Response:
    response = Response(status=304) if request.if_none_match.contains(QUEUE_ETAG) else jsonify(messages=[])
    response.set_etag(QUEUE_ETAG)
    return response
