"""The way in: greeting, main menu, and the polite end after repeated failures."""

from __future__ import annotations

from ivr.flows.nodes import Hangup, Menu, Message, Option

NODES = [
    Message("greeting", prompt="greeting", goto="main_menu"),
    Menu(
        "main_menu",
        prompt="main_menu",
        options=(
            Option("1", "account", goto="account_start"),
            Option("2", "order_status", goto="order_number"),
            Option("3", "questions", goto="faq_start"),
            Option("0", "agent", goto="agent_hours"),
        ),
        help="main_menu_help",
    ),
    Hangup("too_many_failures", prompt="goodbye_after_failures"),
]
