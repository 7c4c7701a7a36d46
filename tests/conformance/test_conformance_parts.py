"""Scenario discovery and declarations, the run configuration, deviations files, operator adapters and
the ``list`` command."""

from __future__ import annotations

import io
import sys
import types
from collections.abc import Sequence
from pathlib import Path

import pytest
import trio

from conformance.cli import main as cli_main
from conformance.config import RunConfig, RunConfigError, configuration_answer, load_run_config
from conformance.deviations import DeviationsError, load_deviations
from conformance.operators import ExecOperator, OperatorError, PromptOperator, make_operator
from conformance.scenario import (
    ScenarioDefinitionError,
    SelectionError,
    discover,
    load_scenario,
    normalise_case_id,
    select,
)
from conformance.states import BOOTED, CHARGING
from conformance.steps import Context, Expand, ExpectCall, Ref, Send, Step, resolve
from engine.protocol.validation import default_registry

CORE_IDS = [
    "TC_001",
    "TC_003",
    "TC_004_1",
    "TC_004_2",
    "TC_005_1",
    "TC_007",
    "TC_010",
    "TC_011_1",
    "TC_011_2",
    "TC_012",
    "TC_013",
    "TC_014",
    "TC_017_1",
    "TC_017_2",
    "TC_018_1",
    "TC_019_1",
    "TC_019_2",
    "TC_021",
    "TC_023_1",
    "TC_023_2",
    "TC_023_3",
    "TC_024",
    "TC_026",
    "TC_028",
    "TC_030",
    "TC_031",
    "TC_032_1",
    "TC_037_1",
    "TC_037_3",
    "TC_039",
    "TC_040_1",
    "TC_040_2",
    "TC_061",
    "TC_064",
]


# ----------------------------------------------------------------------------------------------- scenarios


def test_discovery_finds_the_34_core_cases_and_the_aq1_cases() -> None:
    scenarios = discover()
    core = [s for s in scenarios if s.profile == "Core"]
    assert sorted(s.short_id for s in core) == sorted(CORE_IDS)
    assert [s.id for s in scenarios][:3] == ["TC_001_CSMS", "TC_003_CSMS", "TC_004_1_CSMS"]
    aq1 = [s for s in scenarios if s.profile == "AQ-1"]
    assert [(s.id, s.kind) for s in aq1] == [("R-01", "reconstructed"), ("R-02", "reconstructed")]
    assert all(s.kind == "oca" for s in core)
    assert {s.module.rsplit(".", 1)[0] for s in scenarios} == {
        "conformance.scenarios.core",
        "conformance.scenarios.aq1",
    }


def test_every_static_payload_passes_the_schemas() -> None:
    """Payloads the scenarios send or answer with, resolved against the default configuration (captured
    values stubbed), are schema-valid: a typo in a case is caught here, not against a CSMS."""
    schemas = default_registry()
    ctx = Context(RunConfig(), {"transactionId": 1, "bootInterval": 60})
    checked = 0

    def check(steps: Sequence[Step]) -> None:
        nonlocal checked
        for step in steps:
            if isinstance(step, Expand):
                check(step.function(ctx))
            elif isinstance(step, Send):
                schemas.validate_request(step.action, resolve(step.payload, ctx))
                checked += 1
            elif isinstance(step, ExpectCall):
                request = resolve(step.trigger.payload, ctx) if step.trigger is not None else {}
                if step.trigger is not None:
                    schemas.validate_request(step.trigger.action, request)
                if callable(step.answer) and not isinstance(step.answer, Ref):
                    answer = step.answer(request, ctx)
                else:
                    answer = resolve(step.answer, ctx)
                schemas.validate_response(step.action, answer)
                checked += 1

    for scenario in discover():
        check([step for state in scenario.states for step in state.steps])
        check(scenario.steps)
    assert checked > 200


def _module(**attributes: object) -> types.ModuleType:
    module = types.ModuleType("broken_case")
    for key, value in {"ID": "X_1", "TITLE": "t", "PROFILE": "Core", "SECTION": "1", **attributes}.items():
        setattr(module, key, value)
    return module


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"STEPS": []}, "STEPS is empty"),
        ({"STEPS": [Send("RemoteStartTransaction", {})]}, "RemoteStartTransaction is sent by the CSMS"),
        ({"STEPS": [ExpectCall("Authorize")]}, "ExpectCall: Authorize is not sent by a CSMS"),
        ({"STEPS": [Send("Heartbeat")], "PROFILE": "Billing"}, "PROFILE 'Billing' is not one of"),
        ({"STEPS": [Send("Heartbeat")], "BEFORE": ["Booted"]}, "BEFORE must be a list of states"),
        ({"STEPS": [Send("Heartbeat", expect_error="Oops")]}, "'Oops' is not an OCPP-J 1.6 error code"),
        ({"STEPS": ["Heartbeat"]}, "not a step"),
        ({}, "missing STEPS"),
    ],
)
def test_broken_declarations_are_refused_at_discovery(attributes: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioDefinitionError, match=message):
        load_scenario(_module(**attributes))


def test_states_expand_dependencies_first() -> None:
    scenario = load_scenario(_module(STEPS=[Send("Heartbeat")], BEFORE=[CHARGING, BOOTED]))
    assert [state.name for state in scenario.states] == ["Booted", "Authorized", "Charging"]


def test_selection() -> None:
    scenarios = discover()
    assert normalise_case_id("tc_1") == "TC_001_CSMS"
    assert normalise_case_id("TC_004_1") == "TC_004_1_CSMS"
    assert normalise_case_id("r-1") == "R-01"
    assert [s.id for s in select(scenarios, cases=["tc_64", "R-02"])] == ["TC_064_CSMS", "R-02"]
    assert len(select(scenarios, profiles=["AQ-1"])) == 2
    assert len(select(scenarios, profiles=["core"], cases=["R-01"])) == 35
    assert select(scenarios, profiles=["smart-charging"]) == []
    with pytest.raises(SelectionError, match="unknown profile 'billing'"):
        select(scenarios, profiles=["billing"])
    with pytest.raises(SelectionError, match="unknown case 'TC_999'"):
        select(scenarios, cases=["TC_999"])


# ------------------------------------------------------------------------------------------ configuration


def test_run_configuration_file(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text('charger_id = "ACME-7"\nconnection_timeout = 2\n[id_tags]\nvalid = "04AABB"\n')
    config = load_run_config(path, charger_id=None)
    assert (config.charger_id, config.connection_timeout, config.id_tags.valid) == ("ACME-7", 2.0, "04AABB")
    assert config.id_tags.expired == RunConfig().id_tags.expired
    assert load_run_config(path, charger_id="CP-9").charger_id == "CP-9"  # the command line wins
    assert load_run_config(Path(__file__).parents[2] / "conformance/examples/run.toml") == RunConfig()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('chargerid = "x"', "unknown run configuration key"),
        ("[id_tags]\nvalidd = 'x'", r"unknown key\(s\) in \[id_tags\]: validd"),
        ("connector_id = 0", "connector_id must be at least 1"),
        ("response_timeout = -1", "response_timeout must be a positive number"),
        ('heartbeat_wait = "yes"', "heartbeat_wait must be true or false"),
        ("connector_id = 1.5", "connector_id must be an integer"),
        ("charger_id = ", "not valid TOML"),
    ],
)
def test_run_configuration_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "run.toml"
    path.write_text(text)
    with pytest.raises(RunConfigError, match=message):
        load_run_config(path)


def test_configuration_answer() -> None:
    everything = configuration_answer()
    assert len(everything["configurationKey"]) == 28 and everything["unknownKey"] == []
    answer = configuration_answer(["SupportedFeatureProfiles", "Nope"])
    assert [k["key"] for k in answer["configurationKey"]] == ["SupportedFeatureProfiles"]
    assert answer["unknownKey"] == ["Nope"]
    default_registry().validate_response("GetConfiguration", everything)


def test_provisioning_lists_what_the_csms_must_hold() -> None:
    provisioning = RunConfig().provisioning()
    statuses = {tag["idTag"]: tag["status"] for tag in provisioning["idTags"]}
    tags = RunConfig().id_tags
    assert statuses == {
        tags.valid: "Accepted",
        tags.valid_2: "Accepted",
        tags.expired: "Expired",
        tags.blocked: "Blocked",
    }
    assert tags.invalid not in statuses  # unknown on purpose


# --------------------------------------------------------------------------------------------- deviations


def test_deviation_files(tmp_path: Path) -> None:
    toml = tmp_path / "d.toml"
    toml.write_text('[deviations]\nTC_023_2 = "ticket 12"\n"R-2" = "closes"\n')
    deviations = load_deviations(toml)
    assert deviations.reason("TC_023_2_CSMS") == "ticket 12"
    assert deviations.reason("R-02") == "closes"
    assert deviations.reason("TC_001_CSMS") is None
    module = tmp_path / "known_deviations.py"
    module.write_text(
        'DEVIATIONS = {"TC_064": "vendor id known"}\n'
        'def deviation(case_id):\n    return "all resets" if case_id.startswith("TC_01") else None\n'
    )
    deviations = load_deviations(module)
    assert deviations.reason("TC_064_CSMS") == "vendor id known"
    assert deviations.reason("TC_013_CSMS") == "all resets"
    bad = tmp_path / "bad.toml"
    bad.write_text("[deviations]\nTC_001 = 3\n")
    with pytest.raises(DeviationsError, match="TC_001 needs a reason string"):
        load_deviations(bad)
    with pytest.raises(DeviationsError, match="cannot read"):
        load_deviations(tmp_path / "missing.toml")


# -------------------------------------------------------------------------------------------- operators

SCRIPT = """
import json, sys
request = json.load(sys.stdin)
mode = sys.argv[1]
if mode == "ok":
    print(json.dumps({"result": {"echo": request}}))
elif mode == "error":
    print(json.dumps({"error": "charger_offline", "reason": "CP-1 is not connected"}))
elif mode == "garbage":
    print("hello")
else:
    print("boom", file=sys.stderr)
    sys.exit(3)
"""


async def test_exec_operator(tmp_path: Path) -> None:
    script = tmp_path / "bridge.py"
    script.write_text(SCRIPT)

    def operator(mode: str) -> ExecOperator:
        return ExecOperator(f"{sys.executable} {script} {mode}", timeout=20)

    with trio.fail_after(60):
        result = await operator("ok").request("CP-1", "Reset", {"type": "Hard"})
        assert result.ok
        assert result.result == {
            "echo": {"operation": "call", "chargerId": "CP-1", "action": "Reset", "payload": {"type": "Hard"}}
        }
        result = await operator("ok").set_boot_policy("CP-1", "PendingOnce")
        assert result.result == {
            "echo": {"operation": "set_boot_policy", "chargerId": "CP-1", "policy": "PendingOnce"}
        }
        await operator("ok").provision(RunConfig())
        result = await operator("error").request("CP-1", "Reset", {"type": "Hard"})
        assert (result.error, result.reason) == ("charger_offline", "CP-1 is not connected")
        result = await operator("garbage").request("CP-1", "Reset", {"type": "Hard"})
        assert result.error == "exec_bad_output"
        result = await operator("crash").request("CP-1", "Reset", {"type": "Hard"})
        assert (result.error, result.reason) == ("exec_failed", "exit status 3: boom")
        with pytest.raises(OperatorError, match="could not provision"):
            await operator("error").provision(RunConfig())
        with pytest.raises(OperatorError, match="cannot run operator command"):
            await ExecOperator(str(tmp_path / "does-not-exist")).request("CP-1", "Reset", {})


async def test_prompt_operator() -> None:
    output = io.StringIO()
    lines = iter(["\n", "\n"])
    operator = PromptOperator(output=output, read_line=lambda: next(lines), window=30)
    await operator.provision(RunConfig())
    assert "idTag CT-EXPIRED-01: Expired, expiry 2020-01-01T00:00:00Z" in output.getvalue()
    assert "idTag CT-INVALID-01 must be unknown" in output.getvalue()
    assert (await operator.set_boot_policy("CP-1", "RejectedOnce")).ok
    assert "next BootNotification of CP-1 with Rejected" in output.getvalue()
    with trio.move_on_after(0.01):
        await operator.request("CP-1", "UnlockConnector", {"connectorId": 1})
    assert 'send UnlockConnector to charge point CP-1 with {"connectorId": 1} — waiting up to 30 s' in (
        output.getvalue()
    )


def test_operator_specs() -> None:
    assert make_operator("ocpp-trio").name == "ocpp-trio"
    assert make_operator("ocpp-trio:http://127.0.0.1:9999").name == "ocpp-trio"
    assert make_operator("exec:bridge --flag").name == "exec"
    assert make_operator("prompt").name == "prompt"
    with pytest.raises(OperatorError, match="must be http"):
        make_operator("ocpp-trio:ftp://x")
    with pytest.raises(OperatorError, match="exec: needs a command"):
        make_operator("exec:")


# ---------------------------------------------------------------------------------------------------- CLI


def test_list_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["list", "--profiles", "aq1"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "R-01            AQ-1   §7        Cold boot – Pending then Accepted [reconstructed]",
        "R-02            AQ-1   §7        Cold boot – Rejected then Accepted [reconstructed]",
    ]
    assert cli_main(["list", "--cases", "TC_012", "--steps"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("TC_012_CSMS     Core   §3.4.4    Remote Stop Charging Session")
    assert out[1].startswith("     1. [Booted] CP→CS BootNotification.req")
    assert "OP: make the CSMS send RemoteStopTransaction {transactionId: <transactionId>}" in out[7]
    assert cli_main(["list", "--profiles", "nope"]) == 2


def test_the_engine_cli_has_the_conformance_command(capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import main as engine_main

    assert engine_main(["conformance", "list", "--cases", "TC_001"]) == 0
    assert capsys.readouterr().out.startswith("TC_001_CSMS")
