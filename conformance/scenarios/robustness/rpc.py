"""Robustness group 3 — the RPC wrapper (ocpp16-rules.md §10.3).

Expected reactions, design.md first:

- decision 4: a frame with no usable id (not JSON, not an array, NaN/Infinity, duplicate keys, depth or
  integer-size bombs, a message id that is null, an object or over 255 characters) gets NO reply, and
  ``robustness_bad_frame_limit`` (10) such frames in a row close the connection with 1008; message types
  other than 2/3/4 are ignored and counted;
- decision 2: ``required`` → ProtocolError, ``type`` and over-long CiStrings → TypeConstraintViolation,
  ``enum``/``format`` → PropertyConstraintViolation, ``additionalProperties`` and a wrong frame shape →
  FormationViolation, ``minItems`` → OccurenceConstraintViolation; unknown (or wrongly cased) action →
  NotImplemented; an action only a CSMS sends → NotSupported;
- decision 5: answers with unknown or late ids are discarded without a reply; the same CALL id while in
  progress is processed once; the same id after it was answered gets the cached answer.

"No reply" rows wait ``robustness_silence`` and then prove the connection still works with a Heartbeat.

Not here: 64 (a late answer needs the CSMS's 30 s response timeout to pass), 67 (no agreed rate limit).
"""

from collections.abc import Callable
from types import ModuleType
from typing import Any

from conformance.config import RunConfig
from conformance.raw_steps import (
    Burst,
    ExpectAlive,
    ExpectClose,
    ExpectIncoming,
    ExpectNoReply,
    ExpectOperator,
    ExpectProcessedOnce,
    ExpectResult,
    ExpectSameReply,
    Operate,
    Repeat,
    RobustnessStep,
    SendText,
)
from conformance.scenarios.robustness._rows import (
    RPC,
    answered,
    error,
    group_check,
    no_reply,
    probe,
    row,
)
from conformance.steps import Equals, Operator, Present

S = "10.3"
SUFFIX = RPC

BOOT = '[2,"$ID","BootNotification",{"chargePointVendor":"robustness","chargePointModel":"RB"}]'
HEARTBEAT = '[2,"$ID","Heartbeat",{}]'
STATUS = '"connectorId":1,"errorCode":"NoError","status":"Available"'
SAMPLE = '{"timestamp":"2024-01-01T00:00:00Z","sampledValue":[{"value":"1"}]}'
TEMPERATURE = (
    '[2,"$ID","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2024-01-01T00:00:00Z",'
    '"sampledValue":[{"value":"21.5","measurand":"Temperature","unit":"%s"}]}]}]'
)
CHARGING_PROFILE = (
    '{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,'
    '"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Relative",'
    '"chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}}}'
)
CONFIGURATION_ANSWER = (
    '[3,"$CALLID",{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"300"}],'
    '"unknownKey":[]}]'
)
READ_KEY = {"key": ["HeartbeatInterval"]}


def _garbage_run(less: int) -> Callable[[RunConfig], int]:
    """``robustness_bad_frame_limit - less`` frames."""
    return lambda config: config.robustness_bad_frame_limit - less


def _rpc(case_id: str, title: str, step: RobustnessStep, *, source: str, **extra: Any) -> ModuleType:
    return row(__name__, case_id, title, step, suffix=SUFFIX, section=S, source=source, **extra)


SCENARIOS = [
    # -------------------------------------------------------------- unparseable: no reply (decision 4)
    _rpc("RB-34A", "Not JSON (hello)", no_reply("hello"), source="#34; design decision 4"),
    _rpc(
        "RB-34B",
        "Unparseable frames in a row reach the limit",
        probe(
            Repeat(SendText("hello"), _garbage_run(1), "limit − 1"),
            ExpectNoReply(),
            SendText("hello"),
            ExpectClose(1008),
        ),
        source="#34; design decision 4 (10 in a row close with 1008)",
        expected="no reply to the first limit − 1 (9); close 1008 on the limit-th (10th)",
    ),
    _rpc(
        "RB-34C",
        "A valid frame resets the count of unparseable frames",
        probe(
            Repeat(SendText("hello"), _garbage_run(1), "limit − 1"),
            SendText(HEARTBEAT),
            ExpectResult("Heartbeat"),
            Repeat(SendText("hello"), _garbage_run(1), "limit − 1"),
            ExpectNoReply(),
            ExpectAlive(),
        ),
        source="#34; design decision 4 (in a row)",
        expected="no close: the Heartbeat between two runs of limit − 1 resets the count",
    ),
    _rpc("RB-35A", "JSON, not an array: {}", no_reply("{}"), source="#35; design decision 4"),
    _rpc("RB-35B", 'JSON, not an array: "x"', no_reply('"x"'), source="#35; design decision 4"),
    _rpc("RB-35C", "JSON, not an array: 5", no_reply("5"), source="#35; design decision 4"),
    _rpc(
        "RB-36",
        "100,000 nested [",
        no_reply("[" * 100_000, "100,000 nested '['"),
        source="#36; design decision 4",
    ),
    _rpc(
        "RB-37",
        "Integer of 5,000 digits in the payload",
        no_reply(
            '[2,"$ID","Heartbeat",{"n":' + "7" * 5000 + "}]", "a Heartbeat holding a 5,000-digit integer"
        ),
        source="#37; design decision 4",
    ),
    _rpc(
        "RB-38A", "NaN in the payload", no_reply('[2,"$ID","Heartbeat",{"n":NaN}]'), source="#38; decision 4"
    ),
    _rpc(
        "RB-38B",
        "Infinity in the payload",
        no_reply('[2,"$ID","Heartbeat",{"n":-Infinity}]'),
        source="#38; design decision 4",
    ),
    _rpc(
        "RB-38C",
        "1e999 (infinite as a float) in the payload",
        no_reply('[2,"$ID","Heartbeat",{"n":1e999}]'),
        source="#38; design decision 4 (NaN/Infinity class)",
    ),
    _rpc(
        "RB-39",
        "Duplicate keys",
        no_reply('[2,"$ID","Authorize",{"idTag":"A","idTag":"B"}]'),
        source="#39; design decision 4",
    ),
    _rpc(
        "RB-40",
        "Lone surrogate in a string",
        error(r'[2,"$ID","Authorize",{"idTag":"\ud800"}]', "PropertyConstraintViolation"),
        source="#40",
    ),
    _rpc("RB-41A", "Message type 5", no_reply('[5,"$ID",{}]'), source="#41; J §4.1.3; decision 4"),
    _rpc("RB-41B", 'Message type "2" (a string)', no_reply('["2","$ID","Heartbeat",{}]'), source="#41"),
    _rpc("RB-41C", "Message type 2.0", no_reply('[2.0,"$ID","Heartbeat",{}]'), source="#41"),
    # ------------------------------------------------------------------------- wrapper shape (decision 2)
    _rpc(
        "RB-42A",
        "CALL of 3 elements",
        error('[2,"$ID","Heartbeat"]', "FormationViolation"),
        source="#42; design decision 2",
    ),
    _rpc(
        "RB-42B",
        "CALL of 5 elements",
        error('[2,"$ID","Heartbeat",{},{}]', "FormationViolation"),
        source="#42; design decision 2",
    ),
    _rpc(
        "RB-43A",
        "Message id is a number",
        error('[2,4242,"Heartbeat",{}]', "FormationViolation", unique_id="4242"),
        source="#43 (echo the id as received)",
    ),
    _rpc(
        "RB-43B",
        "Message id is null",
        no_reply('[2,null,"Heartbeat",{}]'),
        source="#43; design decision 4 (no readable id)",
    ),
    _rpc(
        "RB-43C",
        "Message id is an object",
        no_reply('[2,{"id":1},"Heartbeat",{}]'),
        source="#43; design decision 4 (no readable id)",
    ),
    _rpc(
        "RB-44",
        'Message id ""',
        error('[2,"","Heartbeat",{}]', "FormationViolation", unique_id=""),
        source="#44",
    ),
    _rpc(
        "RB-45A",
        "Message id of 37 characters",
        error('[2,"rb-' + "x" * 34 + '","Heartbeat",{}]', "FormationViolation", unique_id="rb-" + "x" * 34),
        source="#45; J §4.1.4",
    ),
    _rpc(
        "RB-45B",
        "Message id of 300 characters",
        no_reply('[2,"' + "x" * 300 + '","Heartbeat",{}]'),
        source="#45 (above the echo cap: drop and count)",
    ),
    # ----------------------------------------------------------------------------- ids (decision 5)
    _rpc(
        "RB-46",
        "Same CALL id sent twice without waiting",
        probe(
            SendText(BOOT),
            SendText(BOOT),
            ExpectProcessedOnce("BootNotification", "status", "Pending"),
            boot=False,
        ),
        source="#46; design decision 5",
        setup=[Operator.set_boot_policy("PendingOnce")],
        teardown=[Operator.set_boot_policy(None)],
        expected=(
            "processed once: one BootNotification.conf Pending (a second execution would answer Accepted); "
            "the copy dropped, or answered with the identical cached answer if the first was already done"
        ),
    ),
    _rpc(
        "RB-47",
        "Same CALL id again after it was answered",
        probe(
            SendText(BOOT),
            ExpectResult("BootNotification", (Equals("status", "Pending"),)),
            SendText(BOOT),
            ExpectSameReply(),
            boot=False,
        ),
        source="#47; design decision 5",
        setup=[Operator.set_boot_policy("PendingOnce")],
        teardown=[Operator.set_boot_policy(None)],
        expected=(
            "the identical cached BootNotification.conf (Pending); not executed again (that would "
            "answer Accepted)"
        ),
    ),
    # --------------------------------------------------------------------------- actions (decision 2)
    _rpc("RB-48A", "Unknown action FooBar", error('[2,"$ID","FooBar",{}]', "NotImplemented"), source="#48"),
    _rpc(
        "RB-48B",
        "Action in the wrong case (bootnotification)",
        error(
            '[2,"$ID","bootnotification",{"chargePointVendor":"robustness","chargePointModel":"RB"}]',
            "NotImplemented",
        ),
        source="#48",
    ),
    _rpc(
        "RB-49A",
        "Reset sent by a charge point",
        error('[2,"$ID","Reset",{"type":"Hard"}]', "NotSupported"),
        source="#49; design decision 2",
    ),
    _rpc(
        "RB-49B",
        "RemoteStartTransaction sent by a charge point",
        error('[2,"$ID","RemoteStartTransaction",{"idTag":"CT-VALID-01"}]', "NotSupported"),
        source="#49; design decision 2",
    ),
    _rpc(
        "RB-49C",
        "SetChargingProfile sent by a charge point",
        error('[2,"$ID","SetChargingProfile",' + CHARGING_PROFILE + "]", "NotSupported"),
        source="#49; design decision 2",
    ),
    # ---------------------------------------------------------------------------------- payloads
    _rpc(
        "RB-50",
        "Payload null",
        answered('[2,"$ID","Heartbeat",null]', "Heartbeat", (Present("currentTime"),)),
        source="#50; J §4.2.1",
    ),
    _rpc("RB-51A", "Payload []", error('[2,"$ID","Heartbeat",[]]', "FormationViolation"), source="#51"),
    _rpc("RB-51B", 'Payload "x"', error('[2,"$ID","Heartbeat","x"]', "FormationViolation"), source="#51"),
    _rpc("RB-51C", "Payload 5", error('[2,"$ID","Heartbeat",5]', "FormationViolation"), source="#51"),
    _rpc(
        "RB-52A",
        "Unknown property at the top level",
        error('[2,"$ID","Heartbeat",{"foo":1}]', "FormationViolation"),
        source="#52; design decision 2",
    ),
    _rpc(
        "RB-52B",
        "Unknown property nested (sampledValue)",
        error(
            '[2,"$ID","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2024-01-01T00:00:00Z",'
            '"sampledValue":[{"value":"1","foo":1}]}]}]',
            "FormationViolation",
        ),
        source="#52; design decision 2",
    ),
    _rpc(
        "RB-53",
        "Required field missing (StartTransaction without meterStart)",
        error(
            '[2,"$ID","StartTransaction",{"connectorId":1,"idTag":"CT-VALID-01","timestamp":"2024-01-01T00:00:00Z"}]',
            "ProtocolError",
        ),
        source="#53; design decision 2",
    ),
    _rpc(
        "RB-54A",
        'connectorId "1" (a string)',
        error(
            '[2,"$ID","StatusNotification",{"connectorId":"1","errorCode":"NoError","status":"Available"}]',
            "TypeConstraintViolation",
        ),
        source="#54; design decision 2",
    ),
    _rpc(
        "RB-54B",
        "connectorId true",
        error(
            '[2,"$ID","StatusNotification",{"connectorId":true,"errorCode":"NoError","status":"Available"}]',
            "TypeConstraintViolation",
        ),
        source="#54; design decision 2",
    ),
    _rpc(
        "RB-54C",
        "connectorId 1.0 (draft-04 integer)",
        error(
            '[2,"$ID","StatusNotification",{"connectorId":1.0,"errorCode":"NoError","status":"Available"}]',
            "TypeConstraintViolation",
        ),
        source="#54; design decision 2",
    ),
    _rpc(
        "RB-55A",
        "idTag of 21 characters",
        error('[2,"$ID","Authorize",{"idTag":"' + "A" * 21 + '"}]', "TypeConstraintViolation"),
        source="#55; design decision 2",
    ),
    _rpc(
        "RB-55B",
        "chargePointVendor of 21 characters",
        error(
            '[2,"$ID","BootNotification",{"chargePointVendor":"' + "V" * 21 + '","chargePointModel":"RB"}]',
            "TypeConstraintViolation",
        ),
        source="#55; design decision 2",
    ),
    _rpc(
        "RB-56A",
        'status "Occupied"',
        error(
            '[2,"$ID","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Occupied"}]',
            "PropertyConstraintViolation",
        ),
        source="#56; design decision 2",
    ),
    _rpc(
        "RB-56B",
        'errorCode "Error"',
        error(
            '[2,"$ID","StatusNotification",{"connectorId":1,"errorCode":"Error","status":"Available"}]',
            "PropertyConstraintViolation",
        ),
        source="#56; design decision 2",
    ),
    _rpc(
        "RB-56C",
        'unit "Celsius"',
        answered(TEMPERATURE % "Celsius", "MeterValues"),
        source="#56; errata (Celsius and Celcius both pass)",
    ),
    _rpc(
        "RB-56D",
        'unit "Celcius" (the 1.6 spelling)',
        answered(TEMPERATURE % "Celcius", "MeterValues"),
        source="#56; errata (Celsius and Celcius both pass)",
    ),
    _rpc(
        "RB-57A",
        'timestamp "2024-13-45T99:00"',
        error(
            '[2,"$ID","StatusNotification",{' + STATUS + ',"timestamp":"2024-13-45T99:00"}]',
            "PropertyConstraintViolation",
        ),
        source="#57; design decision 2",
    ),
    _rpc(
        "RB-57B",
        'timestamp "yesterday"',
        error(
            '[2,"$ID","StatusNotification",{' + STATUS + ',"timestamp":"yesterday"}]',
            "PropertyConstraintViolation",
        ),
        source="#57; design decision 2",
    ),
    _rpc(
        "RB-57C",
        "timestamp with fractions and an offset (+02:00)",
        answered(
            '[2,"$ID","StatusNotification",{' + STATUS + ',"timestamp":"2024-01-01T02:00:00.123+02:00"}]',
            "StatusNotification",
        ),
        source="#57; design decision 11",
    ),
    _rpc(
        "RB-58A",
        "meterValue: []",
        error('[2,"$ID","MeterValues",{"connectorId":1,"meterValue":[]}]', "OccurenceConstraintViolation"),
        source="#58; design decision 2",
    ),
    _rpc(
        "RB-58B",
        "sampledValue: []",
        error(
            '[2,"$ID","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2024-01-01T00:00:00Z","sampledValue":[]}]}]',
            "OccurenceConstraintViolation",
        ),
        source="#58; design decision 2",
    ),
    _rpc(
        "RB-59",
        "Non-printable character in a CiString (idTag AB\\u0007)",
        error(r'[2,"$ID","Authorize",{"idTag":"AB\u0007"}]', "PropertyConstraintViolation"),
        source="#59; C §2.2 (CiString: printable ASCII)",
    ),
    # ------------------------------------------------------------------ answers (decision 5)
    _rpc(
        "RB-60",
        "CALLRESULT for an id the CSMS never sent",
        no_reply('[3,"$ID-never-sent",{}]'),
        source="#60; design decision 5",
    ),
    _rpc(
        "RB-61",
        "CALLERROR for an id the CSMS never sent",
        no_reply('[4,"$ID-never-sent","GenericError","",{}]'),
        source="#61; design decision 5",
    ),
    _rpc(
        "RB-62",
        "Schema-invalid CALLRESULT to the CSMS's CALL",
        probe(
            Operate("GetConfiguration", READ_KEY),
            ExpectIncoming("GetConfiguration"),
            SendText('[3,"$CALLID",{"configurationKey":"not a list"}]'),
            ExpectNoReply(),
            ExpectOperator(ok=False),
            ExpectAlive(),
        ),
        source="#62",
        expected="no reply; the operator's GetConfiguration fails; connection still usable",
    ),
    _rpc(
        "RB-63A",
        "CALLERROR with the 2.0.1 code FormatViolation to the CSMS's CALL",
        probe(
            Operate("GetConfiguration", READ_KEY),
            ExpectIncoming("GetConfiguration"),
            SendText('[4,"$CALLID","FormatViolation","2.0.1 spelling",{}]'),
            ExpectNoReply(),
            ExpectOperator(ok=False),
            ExpectAlive(),
        ),
        source="#63",
        expected="no reply; the operator's GetConfiguration fails; connection still usable",
    ),
    _rpc(
        "RB-63B",
        "CALLERROR with a garbage code to the CSMS's CALL",
        probe(
            Operate("GetConfiguration", READ_KEY),
            ExpectIncoming("GetConfiguration"),
            SendText('[4,"$CALLID","No Such Code!",{"x":1},{}]'),
            ExpectNoReply(),
            ExpectOperator(ok=False),
            ExpectAlive(),
        ),
        source="#63",
        expected="no reply; the operator's GetConfiguration fails; connection still usable",
    ),
    _rpc(
        "RB-65",
        "Charger CALL while the CSMS awaits the charger's answer",
        probe(
            Operate("GetConfiguration", READ_KEY),
            ExpectIncoming("GetConfiguration"),
            SendText(HEARTBEAT),
            ExpectResult("Heartbeat"),
            SendText(CONFIGURATION_ANSWER),
            ExpectOperator(ok=True),
        ),
        source="#65; J §4.1.1 note",
        expected="Heartbeat.conf while the CSMS's CALL is open; then the CSMS's call completes",
    ),
    _rpc(
        "RB-66",
        "Burst of 50 CALLs without waiting",
        probe(Burst(50)),
        source="#66",
    ),
    group_check(__name__, "RB-67-OK", "RPC wrapper", suffix=SUFFIX, section=S),
]
