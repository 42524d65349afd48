"""The help centre (/help), a channel at the edge: the knowledge base for people online, in their
language, with the same decision the phone gives (ivr/knowledge/decision.py `ask`): one answer, a few
to choose between, or an honest "we have no answer to that". pages.py serves the pages and the JSON
search; contact.py the message form into the agents' queue; products.py the product directory and
its JSON search; orders.py an order's status; texts.py reads what the pages say
(prompts/web/<code>.yaml); visitors.py picks a visitor's language."""

from __future__ import annotations

from flask import Flask

from ivr.web import contact, orders, pages, products  # noqa: F401 (they add their pages to pages.bp)
from ivr.web.texts import Texts


def init_app(app: Flask) -> None:
    app.extensions["ivr.web_texts"] = Texts.load()
    app.register_blueprint(pages.bp)
