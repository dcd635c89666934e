"""The guided admin flows are described consistently (handlers.admin.steps)."""
from __future__ import annotations

from handlers.admin import _FLOWS, admins, common, documents, entries, stations, views


def test_every_step_has_its_own_conversation_state():
    states = [step.state for flow in _FLOWS for step in flow.steps]
    others = {common.SEARCH, common.CONFIRM, common.ALT_TARGET, common.D_FILE}
    assert len(states) == len(set(states)) and not others & set(states)


def test_the_preview_buttons_name_exactly_the_fields_a_flow_asks():
    assert entries.FLOW.fields == list(views.FIELD_NAMES)
    assert stations.FLOW.fields == list(views.STATION_FIELDS)
    assert documents.FLOW.fields == list(documents.FIELDS)
    assert admins.FLOW.fields == ["i"]


def test_a_follow_up_step_is_reached_only_through_its_predecessor():
    follow_ups = {step.key for flow in _FLOWS for step in flow.steps if not step.queued}
    assert follow_ups == {"quote"} and entries.FLOW.step("s").then == "quote"
    assert "quote" not in entries.FLOW.fields
