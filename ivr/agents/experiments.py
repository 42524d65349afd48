"""The experiments page (/agent/experiments), for supervisors: start a variant of a prompt or an
answer for a share of callers, see each arm's figures and whether the difference is more than
chance, and stop it. What is checked and counted is ivr/experiments.py's."""

from __future__ import annotations

import datetime as dt

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ivr import experiments
from ivr.agents import views
from ivr.agents.views import bp
from ivr.db import get_db
from ivr.insights import figures
from ivr.languages import line_languages
from ivr.models import FaqEntry

# The figures shown: the last four weeks of the line's days.
DAYS = 28


@bp.route("/experiments", methods=["GET", "POST"])
@login_required
def experiments_page():  # type: ignore[no-untyped-def]
    if not current_user.supervisor:
        return render_template("agent/refused.html", why="Experiments are for supervisors."), 403
    typed = {name: request.form.get(name, "")[:experiments.LONGEST + 10] for name in
             ("kind", "language", "target", "text", "share")}  # fmt: skip
    if request.method == "POST":
        try:
            with get_db().transaction() as db:
                catalog = current_app.extensions["ivr.catalog"]
                started = experiments.start(db, catalog, typed["kind"], typed["language"], typed["target"].strip(),
                                            typed["text"], typed["share"], current_user.name, views.now())  # fmt: skip
                flash(f"Experiment {started.id} started: {started.share}% of callers hear the variant.", "ok")
            return redirect(url_for("agents.experiments_page"))
        except experiments.ExperimentError as error:
            flash(str(error), "error")  # the form keeps what was typed
    today = current_app.extensions["ivr.hours"].local(views.now()).date()
    with get_db().reading() as db:
        found = figures.figures(db, current_app.config, today - dt.timedelta(days=DAYS - 1), today)
    status = 400 if request.method == "POST" else 200
    return render_template("agent/experiments.html", tried=found.experiments, typed=typed, days=DAYS,
                           languages=line_languages(current_app.config), kinds=experiments.KINDS,
                           least=experiments.MIN_CALLS, original=_original), status  # fmt: skip


def _original(kind: str, language: str, target: str) -> str:
    """What callers in the original arm hear: the prompt's words as written, or the answer."""
    if kind == "prompt":
        prompts = current_app.extensions["ivr.catalog"].languages.get(language)
        return str(prompts.prompts.get(target, "")) if prompts else ""
    with get_db().reading() as db:
        return db.scalar(select(FaqEntry.answer).where(FaqEntry.language == language, FaqEntry.slug == target)) or ""


@bp.post("/experiments/<int:experiment_id>/stop")
@login_required
def stop_experiment(experiment_id: int):  # type: ignore[no-untyped-def]
    if not current_user.supervisor:
        return render_template("agent/refused.html", why="Experiments are for supervisors."), 403
    try:
        with get_db().transaction() as db:
            experiments.stop(db, experiment_id, views.now())
        flash(f"Experiment {experiment_id} stopped: every caller hears the original again.", "ok")
    except experiments.ExperimentError as error:
        flash(str(error), "error")
    return redirect(url_for("agents.experiments_page"))
