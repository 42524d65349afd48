"""Experiments (ivr/experiments.py): what may be started, a caller in one arm for good and hearing it
on every call (in each language), and the arms' figures with the chance statement from known calls."""

from __future__ import annotations

import datetime as dt
import math
import secrets
from pathlib import Path
from statistics import NormalDist

import pytest
from flask import Flask

from ivr import experiments
from ivr.agents import views
from ivr.db import get_db
from ivr.insights import figures, rollup
from ivr.models import Call, Experiment
from ivr.simulator.phone import SimulatedCall
from ivr.simulator.transport import FlaskTransport
from tests.conftest import TOKEN, make_app
from tests.helpers import (
    CHROMIUM,
    OUTPUT,
    PASSWORD,
    browser_page,
    csrf,
    login,
    no_sideways_scroll,
    serious_problems,
    site,
    supervisor,
)

__all__ = ["site"]

NOW = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)
LANGUAGES = {"LANGUAGES": "en-US,fi-FI,lv-LV"}


@pytest.fixture
def line(tmp_path: Path, template_db: Path):  # type: ignore[no-untyped-def]
    app = make_app(tmp_path, template_db, SECRET_KEY="k", **LANGUAGES)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["agents", "create", "ann"], input=PASSWORD + "\n").exit_code == 0
    supervisor(app, "carol")
    yield app
    app.extensions["ivr.db"].engine.dispose()


@pytest.mark.parametrize("share", ["-1", "0", "100", "101", "250", "twenty", "", "12.5", "1e3"])
def test_a_share_outside_1_to_99_percent_is_refused(share: str) -> None:
    with pytest.raises(experiments.ExperimentError, match="share must be"):
        experiments.share_of(share)


@pytest.mark.parametrize(("share", "percent"), [("20", 20), (" 20% ", 20), ("1", 1), ("99", 99)])
def test_a_share_is_a_whole_percentage(share: str, percent: int) -> None:
    assert experiments.share_of(share) == percent


@pytest.mark.parametrize(
    ("kind", "language", "target", "text", "why"),
    [
        ("prompt", "en-US", "no_such_prompt", "Hello.", "There is no prompt 'no_such_prompt'"),
        ("prompt", "en-US", "closed_now", "Closed. Back {when}.", r"names when, which this prompt does not have"),
        ("prompt", "en-US", "greeting", "Hi from {company.__class__}.", "braces do not pair up"),
        ("prompt", "en-US", "greeting", "Hi {", "braces do not pair up"),
        ("prompt", "en-US", "greeting", "  \x00 ", "empty"),
        ("prompt", "en-US", "greeting", "x" * 1001, "1001 characters long"),
        ("prompt", "xx-XX", "greeting", "Hi.", "does not speak 'xx-XX'"),
        ("answer", "en-US", "no_such_answer", "Soon.", "There is no answer 'no_such_answer'"),
        ("voice", "en-US", "greeting", "Hi.", "of a prompt or an answer"),
    ],
)
def test_what_cannot_run_is_refused_with_why(line: Flask, kind: str, language: str, target: str, text: str,
                                             why: str) -> None:  # fmt: skip
    with line.app_context(), get_db().transaction() as session:
        with pytest.raises(experiments.ExperimentError, match=why):
            experiments.start(session, line.extensions["ivr.catalog"], kind, language, target, text, 20, "carol", NOW)


def test_one_experiment_at_a_time_on_one_prompt(line: Flask) -> None:
    catalog = line.extensions["ivr.catalog"]
    with line.app_context(), get_db().transaction() as session:
        started = experiments.start(session, catalog, "prompt", "en-US", "closed_now",
                                    "We're closed. Our hours: {hours}. Back {next}.", "20", "carol", NOW)  # fmt: skip
        with pytest.raises(experiments.ExperimentError, match="running already"):
            experiments.start(session, catalog, "prompt", "en-US", "closed_now", "Closed.", 20, "carol", NOW)
        experiments.start(session, catalog, "prompt", "fi-FI", "closed_now", "Suljettu.", 20, "carol", NOW)
        experiments.stop(session, started.id, NOW)
        with pytest.raises(experiments.ExperimentError, match="ended already"):
            experiments.stop(session, started.id, NOW)
        experiments.start(session, catalog, "prompt", "en-US", "closed_now", "Closed.", 20, "carol", NOW)


def test_only_a_supervisor_starts_one_and_bad_input_keeps_what_was_typed(line: Flask) -> None:
    agent = login(line, "ann")
    assert agent.get("/agent/experiments").status_code == 403
    boss = login(line, "carol")
    form = {"kind": "prompt", "language": "en-US", "target": "main_menu", "text": "What can I do for you?",
            "share": "150", "csrf_token": csrf(boss, "/agent/experiments")}  # fmt: skip
    reply = boss.post("/agent/experiments", data=form)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 400 and "The share must be from 1 to 99%, not 150%" in page
    assert "What can I do for you?</textarea>" in page  # nothing typed is lost
    reply = boss.post("/agent/experiments", data={**form, "share": "20"}, follow_redirects=True)
    assert "20% of callers hear the variant" in reply.get_data(as_text=True)
    with line.app_context(), get_db().reading() as session:
        [started] = session.query(Experiment).all()
        assert (started.target, started.share, started.started_by, started.ended_at) == ("main_menu", 20, "carol", None)


def _caller_in(experiment_id: int, share: int, wanted: str) -> str:
    """A caller's number that falls in the `wanted` arm."""
    for n in range(1000):
        number = f"+1555020{n:04d}"
        if experiments.arm(experiment_id, number, share) == wanted:
            return number
    raise AssertionError("no number falls in that arm")


GREETINGS = {
    "en-US": (
        "main_menu",
        "How may I help? Say it in your own words, or pick one of these.",
        "How can I help you today",
    ),
    "fi-FI": ("main_menu", "Kerro lyhyesti, mitä asiasi koskee, tai valitse vaihtoehto.", "Miten voin auttaa"),
    "lv-LV": ("main_menu", "Sakiet īsi, par ko zvanāt, vai izvēlieties kādu no iespējām.", "Kā varu jums palīdzēt"),
}


@pytest.mark.parametrize("language", sorted(GREETINGS))
def test_a_caller_in_the_variant_hears_it_on_every_call_in_their_language(line: Flask, language: str) -> None:
    target, variant, original = GREETINGS[language]
    with line.app_context(), get_db().transaction() as session:
        started = experiments.start(session, line.extensions["ivr.catalog"], "prompt", language, target, variant,
                                    50, "carol", NOW)  # fmt: skip
        experiment_id = started.id
    for arm, hears, not_hears in (("variant", variant, original), ("original", original, variant)):
        number = _caller_in(experiment_id, 50, arm)
        for _call in range(2):
            phone = SimulatedCall(FlaskTransport(line, TOKEN), caller=number).dial()
            assert phone.choose_language(language)
            assert hears in phone.heard and not_hears not in phone.heard, (arm, phone.heard)
            phone.press("9")  # the main menu again: the same words
            assert hears in phone.heard, (arm, phone.heard)
            phone.hangup()


def test_a_variant_of_an_answer_is_read_to_its_callers(line: Flask) -> None:
    variant = "Most orders arrive in two to four working days; you get a tracking link when it ships."
    with line.app_context(), get_db().transaction() as session:
        started = experiments.start(session, line.extensions["ivr.catalog"], "answer", "en-US", "delivery_times",
                                    variant, 30, "carol", NOW)  # fmt: skip
    phone = SimulatedCall(FlaskTransport(line, TOKEN), caller=_caller_in(started.id, 30, "variant")).dial()
    assert phone.choose_language("en-US")
    phone.say("how long does delivery take")
    assert variant in phone.heard, phone.heard
    phone.hangup()
    phone = SimulatedCall(FlaskTransport(line, TOKEN), caller=_caller_in(started.id, 30, "original")).dial()
    assert phone.choose_language("en-US")
    phone.say("how long does delivery take")
    assert variant not in phone.heard and "Did that answer your question?" in phone.heard, phone.heard
    phone.hangup()
    # Both calls heard it, one in each arm: what the insights will count.
    with line.app_context(), get_db().reading() as session:
        heard = [c.collected.get("experiments_heard") for c in session.query(Call).order_by(Call.started_at)]
    assert heard == [{str(started.id): "faq_helpful"}] * 2


# ---- the figures from calls whose outcomes are known ------------------------------------------------


def _calls(app: Flask, experiment_id: int, arm: str, heard: int, helped: int, dropped: int, solved: int) -> None:
    """`heard` ended calls in `arm` that heard the experiment's prompt (at the main menu): `helped` of
    them helped (and `solved` of those said so), `dropped` hung up at the main menu, the rest gave up."""
    with app.app_context(), get_db().transaction() as session:
        for n in range(heard):
            outcome = "helped" if n < helped else "hung_up" if n < helped + dropped else "gave_up"
            last = "main_menu" if outcome == "hung_up" else "call_over"
            collected = {
                "experiments": {str(experiment_id): arm},
                "experiments_heard": {str(experiment_id): "main_menu"},
            }
            if n < solved:
                collected |= {"surveyed": 1, "survey": "yes"}
            session.add(Call(call_sid="CA" + secrets.token_hex(16), from_number=f"+1555030{n:04d}", node=last,
                             collected=collected, outcome=outcome, started_at=NOW, updated_at=NOW, ended_at=NOW,
                             events=[{"step": 1, "node": "start", "input_kind": "none", "next_node": last}]))  # fmt: skip


def _p(helped_a: int, calls_a: int, helped_b: int, calls_b: int) -> float:
    """The two-sided p-value, worked out here apart from the code under test."""
    pooled = (helped_a + helped_b) / (calls_a + calls_b)
    z = (helped_b / calls_b - helped_a / calls_a) / math.sqrt(pooled * (1 - pooled) * (1 / calls_a + 1 / calls_b))
    return 2 * (1 - NormalDist().cdf(abs(z)))


def test_the_arms_figures_and_whether_the_difference_is_more_than_chance(line: Flask) -> None:
    catalog = line.extensions["ivr.catalog"]
    with line.app_context(), get_db().transaction() as session:
        ids = [experiments.start(session, catalog, "prompt", "en-US", target, text, 20, "carol", NOW).id
               for target, text in (("main_menu", "What can I do for you?"), ("greeting", "Hi, {company} here."),
                                    ("anything_else", "Anything else?"))]  # fmt: skip
    clear, chance, few = ids
    _calls(line, clear, "original", 120, 48, 30, 20)
    _calls(line, clear, "variant", 110, 70, 10, 40)
    _calls(line, chance, "original", 150, 75, 0, 0)
    _calls(line, chance, "variant", 150, 80, 0, 0)
    _calls(line, few, "original", 99, 20, 0, 0)
    _calls(line, few, "variant", 200, 180, 0, 0)
    with line.app_context():
        with get_db().transaction() as session:
            assert rollup.roll_up(session, line.config, NOW + dt.timedelta(hours=2), limit=10_000) == 829
        with get_db().reading() as session:
            seen = figures.figures(session, line.config, dt.date(2026, 11, 24), dt.date(2026, 11, 24))
    client = line.test_client()
    from tests.helpers import api_token, bearer

    data = client.get("/agent/api/insights?from=2026-11-24&to=2026-11-24", headers=bearer(api_token(line, "carol")))
    tried = {t["id"]: t for t in data.get_json()["experiments"]}
    assert tried == {t["id"]: t for t in (figures.as_json(seen)["experiments"])}

    one = tried[clear]
    assert one["original"] == {"calls": 120, "helped": 48, "containment": 0.4, "dropped": 30, "drop_off": 0.25,
                               "survey": {"asked": 20, "solved": 20, "not_solved": 0}}  # fmt: skip
    assert one["variant"]["calls"] == 110 and one["variant"]["helped"] == 70 and one["variant"]["dropped"] == 10
    assert one["difference"] == round(100 * (70 / 110 - 0.4), 1) == 23.6
    assert one["p_value"] == pytest.approx(_p(48, 120, 70, 110), rel=1e-6) and one["p_value"] < 0.001
    assert one["statement"] == "The variant helped more callers (+23.6 points): more than chance (p < 0.001)."

    two = tried[chance]
    assert two["p_value"] == pytest.approx(_p(75, 150, 80, 150), rel=1e-6)
    assert two["statement"] == f"The difference (+3.3 points) could be chance (p = {_p(75, 150, 80, 150):.3f})."

    three = tried[few]
    assert three["p_value"] is None
    assert (
        three["statement"] == "Not enough calls yet: each arm needs 100 calls that heard it (original 99, variant 200)."
    )


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: apt-get install chromium (make test does it)")
@pytest.mark.parametrize("width", [390, 1280])
def test_a_supervisor_starts_compares_and_stops_one_in_a_browser(
    site: tuple[Flask, str], width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    app, base = site
    supervisor(app, "carol")
    with app.app_context(), get_db().transaction() as session:
        clear = experiments.start(session, app.extensions["ivr.catalog"], "prompt", "en-US", "main_menu",
                                  "What can I do for you?", 20, "carol", NOW).id  # fmt: skip
    _calls(app, clear, "original", 120, 48, 30, 20)
    _calls(app, clear, "variant", 110, 70, 10, 40)
    with app.app_context(), get_db().transaction() as session:
        rollup.roll_up(session, app.config, NOW + dt.timedelta(hours=2), limit=10_000)
    monkeypatch.setattr(views, "now", lambda: NOW + dt.timedelta(hours=3))
    with browser_page(width) as page:
        page.goto(base + "/agent/login")
        page.get_by_label("Name").fill("carol")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto(base + "/agent/experiments")
        expect(page.locator(".statement").first).to_contain_text("more than chance")
        page.get_by_label("Which one").fill("closed_now")
        page.get_by_label("What the variant says").fill("We're closed now. Open {hours}. Back {next}.")
        page.get_by_label("Share of callers who hear it, in %").fill("250")
        page.get_by_role("button", name="Start").click()
        expect(page.locator(".flash")).to_contain_text("The share must be from 1 to 99%, not 250%")
        expect(page.get_by_label("What the variant says")).to_have_value("We're closed now. Open {hours}. Back {next}.")
        page.get_by_label("Share of callers who hear it, in %").fill("20")
        page.get_by_role("button", name="Start").click()
        expect(page.locator(".flash")).to_contain_text("20% of callers hear the variant")
        no_sideways_scroll(page)
        assert serious_problems(page) == []
        page.screenshot(path=str(OUTPUT / f"experiments-{width}.png"), full_page=True)
        page.get_by_role("button", name="Stop: everyone hears the original").first.click()
        expect(page.locator(".flash")).to_contain_text("stopped")
        page.goto(base + "/agent/insights?from=2026-11-24&to=2026-11-24")
        expect(page.locator("#experiments")).to_contain_text("The variant helped more callers (+23.6 points)")
        no_sideways_scroll(page)
        page.locator("#experiments").screenshot(path=str(OUTPUT / f"experiments-insights-{width}.png"))


def test_the_command_line_starts_lists_and_stops_one_with_the_same_checks(line: Flask) -> None:
    runner = line.test_cli_runner()
    refused = runner.invoke(args=["experiments", "start", "--prompt", "main_menu", "--share", "101", "--text", "Hi."])
    assert refused.exit_code == 1 and "The share must be from 1 to 99%, not 101%" in refused.output
    both = runner.invoke(
        args=["experiments", "start", "--prompt", "x", "--answer", "y", "--share", "5", "--text", "Hi."]
    )
    assert both.exit_code == 2 and "Name one prompt (--prompt ID) or one answer (--answer SLUG)" in both.output
    started = runner.invoke(args=["experiments", "start", "--answer", "delivery_times", "--language", "fi-FI",
                                  "--share", "25", "--text", "Toimitus kestää 2–4 arkipäivää."])  # fmt: skip
    assert started.exit_code == 0 and "experiment 1 started: 25% of callers in fi-FI hear the variant" in started.output
    listed = runner.invoke(args=["experiments", "list"]).output
    assert "answer" in listed and "delivery_times" in listed and "25%" in listed and "running" in listed
    assert runner.invoke(args=["experiments", "stop", "1"]).output == "experiment 1 stopped\n"
    again = runner.invoke(args=["experiments", "stop", "1"])
    assert again.exit_code == 1 and "Experiment 1 has ended already." in again.output
