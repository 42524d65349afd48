"""Hypothesis throws garbage at every webhook: the answer is always valid TwiML, never an error."""

from __future__ import annotations

import secrets
from xml.etree import ElementTree

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import post, sid, twilio_params

PATHS = st.sampled_from(
    [
        "/voice/incoming",
        "/voice/step/main_menu?n=1",
        "/voice/step/order_number?n=2",
        "/voice/step/order_result?n=3",
        "/voice/step/greeting?n=0",
        "/voice/main-menu",
        "/voice/status",
    ]
)
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60)
FIELDS = st.dictionaries(
    st.sampled_from(
        [
            "Digits",
            "SpeechResult",
            "Confidence",
            "CallSid",
            "From",
            "To",
            "CallStatus",
            "CallDuration",
            "DialCallStatus",
            "RecordingUrl",
            "RecordingDuration",
            "Junk",
        ]
    ),
    text | st.sampled_from(["", "2", "5001", "*", "9", "#", "NaN", "-1", "1e309", "CA" + "0" * 32]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=PATHS, fields=FIELDS, known_call=st.booleans())
def test_any_input_gets_valid_twiml(client, path: str, fields: dict[str, str], known_call: bool) -> None:  # type: ignore[no-untyped-def]
    call = sid()
    if known_call:
        post(client, "/voice/incoming", twilio_params(call))
    params = {k: v for k, v in twilio_params(call, **fields).items()}
    response = post(client, path, params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.get_data(as_text=True))
    assert root.tag == "Response"
    if path != "/voice/status":
        # The caller always hears something, or is sent where they will.
        assert root.find(".//Say") is not None or root.find("Redirect") is not None, response.get_data(as_text=True)


def test_garbage_menu_input_is_reprompted(client) -> None:  # type: ignore[no-untyped-def]
    call = sid()
    post(client, "/voice/incoming", twilio_params(call))
    garbage = secrets.token_urlsafe(40)
    root = ElementTree.fromstring(post(client, "/voice/step/main_menu?n=1", twilio_params(call, Digits=garbage)).data)
    assert "didn't get that" in "".join(root.itertext())


@given(st.text(alphabet=st.sampled_from("ab=&%+2B0Fé€ x;"), max_size=60))
def test_the_webhook_form_parser_reads_what_the_standard_library_reads(body: str) -> None:
    from urllib.parse import parse_qsl

    from ivr.voice.signature import parse_form

    assert parse_form(body) == dict(parse_qsl(body, keep_blank_values=True))
