"""TwiML is built in one place (ivr/voice/twiml.py): the call steps' and the agents' click-to-call bridge."""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from pathlib import Path

from ivr.voice import twiml

IVR = Path(__file__).resolve().parent.parent / "ivr"


def test_the_click_to_call_bridge_tells_the_agent_then_dials_the_caller_from_the_line() -> None:
    response = ET.fromstring(twiml.bridge("+15550100001", "+15550100000"))
    say, dial = list(response)
    assert (say.tag, say.text) == ("Say", "Connecting you to the caller who left the message.")
    assert (dial.tag, dial.get("callerId")) == ("Dial", "+15550100000")
    assert [(n.tag, n.text) for n in dial] == [("Number", "+15550100001")]


def test_only_the_twiml_module_imports_twilio_twiml() -> None:
    importers = []
    for path in sorted(IVR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name.startswith("twilio.twiml") for name in names):
                importers.append(str(path.relative_to(IVR.parent)))
    assert importers == ["ivr/voice/twiml.py"]
