"""The server's front page: a person who opens the server's address finds the agents' desk."""

from __future__ import annotations

from flask import Flask

from tests.conftest import make_app


def test_the_front_page_links_the_agents_desk_and_names_the_webhook(app: Flask) -> None:
    response = app.test_client().get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert '<a href="/agent/">The agents\' desk</a>' in page
    assert "<code>/voice/incoming</code>" in page


def test_the_company_name_is_text_on_the_front_page(tmp_path, template_db) -> None:  # type: ignore[no-untyped-def]
    app = make_app(tmp_path, template_db, COMPANY_NAME="<script>alert(1)</script> & Co")
    page = app.test_client().get("/").get_data(as_text=True)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co phone line" in page
