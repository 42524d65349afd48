"""Flows are validated when the app starts and by `flows check`; `flows graph` draws them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ivr.errors import FlowError
from ivr.flows import build_flow, handler_phrases, handler_prompts
from ivr.flows.check import problems
from ivr.flows.graph import diagram, mermaid
from ivr.flows.nodes import Command, Flow, Menu, Message, Option
from ivr.prompts import Catalog, Language


@pytest.fixture
def catalog() -> Catalog:
    return Catalog.load()


def with_nodes(flow: Flow, *nodes) -> Flow:  # type: ignore[no-untyped-def]
    return replace(flow, nodes={**flow.nodes, **{n.id: n for n in nodes}})


def test_the_shipped_flow_is_valid(catalog: Catalog) -> None:
    assert problems(build_flow(), catalog, handler_prompts(), handler_phrases()) == []


def test_a_phrase_list_a_handler_reads_is_checked(catalog: Catalog) -> None:
    english = catalog.languages["en-US"]
    without = Language(english.prompts, {k: v for k, v in english.phrases.items() if k != "mine"})
    found = problems(build_flow(), Catalog({"en-US": without}), handler_prompts(), handler_phrases())
    assert found == ["prompts/en-US.yaml: phrases for mine are missing"]


def test_dangling_transition_is_found(catalog: Catalog) -> None:
    flow = with_nodes(build_flow(), Message("greeting", prompt="greeting", goto="nowhere"))
    assert any("'nowhere', which does not exist" in p for p in problems(flow, catalog, handler_prompts()))


def test_duplicate_and_reserved_keys_are_found(catalog: Catalog) -> None:
    menu = Menu(
        "main_menu",
        prompt="main_menu",
        options=(Option("2", "order_status", "order_number"), Option("2", "another_order", "order_number"),
                 Option("9", "repeat", "order_number")),
    )  # fmt: skip
    found = problems(with_nodes(build_flow(), menu), catalog, handler_prompts())
    assert "main_menu: key '2' is used twice" in found
    assert any("key '9' is reserved" in p for p in found)


def test_missing_prompt_in_a_language_is_found(catalog: Catalog) -> None:
    english = catalog.languages["en-US"]
    spanish = Language({k: v for k, v in english.prompts.items() if k != "order_shipped"}, english.phrases)
    both = Catalog({"en-US": english, "es-US": spanish})
    assert problems(build_flow(), both, handler_prompts(), handler_phrases()) == [
        "prompts/es-US.yaml: prompt order_shipped is missing"
    ]


def test_unreachable_node_is_found(catalog: Catalog) -> None:
    flow = with_nodes(build_flow(), Message("lonely", prompt="greeting", goto="main_menu"))
    assert "lonely: no path from 'language_start' reaches it" in problems(flow, catalog, handler_prompts())


def test_app_refuses_to_start_with_a_broken_flow(monkeypatch, tmp_path, template_db) -> None:  # type: ignore[no-untyped-def]
    from ivr.flows import main
    from tests.conftest import make_app

    monkeypatch.setattr(main, "NODES", [*main.NODES[:2], Message("too_many_failures", prompt="nope", goto="x")])
    with pytest.raises(FlowError, match="not valid"):
        make_app(tmp_path, template_db)


def test_graph_draws_every_node_and_transition() -> None:
    text = mermaid(diagram(build_flow()))
    assert text.startswith("flowchart TD\n")
    assert 'main_menu -- "2 / order_status" --> order_number' in text
    for node_id in build_flow().nodes:
        assert f"    {node_id}" in text


def test_cli_check_and_graph(app) -> None:  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["flows", "check"])
    assert result.exit_code == 0 and "flows OK" in result.output
    result = runner.invoke(args=["flows", "graph"])
    assert result.exit_code == 0 and 'order_lookup -- "found" --> order_result' in result.output


def test_commands_are_checked(catalog: Catalog) -> None:
    flow = build_flow()
    main_menu = flow.nodes["main_menu"]
    clash = replace(main_menu, options=(*main_menu.options, Option("0", "agent", "agent_hours")))
    commands = (*flow.commands, Command("operator_now", key="*", goto="nowhere"), Command("shout"))
    found = problems(replace(with_nodes(flow, clash), commands=commands), catalog, handler_prompts())
    assert "main_menu: key '0' is reserved (a command that works at every prompt has it)" in found
    assert "key '*' is given to two commands" in found
    assert "command 'operator_now' goes to 'nowhere', which does not exist" in found
    assert "command 'shout' leads nowhere (only repeat, help need no node)" in found
    assert "prompts/en-US.yaml: phrases for shout are missing" in found


def test_graph_draws_the_commands_once_for_every_prompt() -> None:
    text = mermaid(diagram(build_flow()))
    assert 'any_prompt == "0 / agent" ==> agent_hours' in text
    assert 'any_prompt == "goodbye" ==> goodbye' in text
    assert 'any_prompt -. "third miss at any prompt" .-> after_failures' in text
    assert 'order_result -. "silence: that\'s all" .-> goodbye' in text


def test_cli_check_lists_the_commands(app) -> None:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["flows", "check"])
    assert "at every prompt:\n  0 / agent -> agent_hours\n  9 / main_menu -> main_menu\n" in result.output
