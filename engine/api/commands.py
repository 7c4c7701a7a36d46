"""CLI subcommands over the HTTP operator API: ``ocpp-trio chargers``, ``call``, ``tags``, ``policy``, …

:func:`add_commands` adds them to an argparse subparsers object; each sets ``func`` to a handler
``(args) -> int`` (the exit code). Every command takes ``--api URL`` (default ``$OCPP_TRIO_API`` or
``http://127.0.0.1:9001``), ``--token`` (default ``$OCPP_TRIO_TOKEN``) and ``--json`` (raw JSON instead of
a table). Exit codes: 0 done, 1 the API refused or the call failed, 2 the API cannot be reached or the
command line is wrong.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from engine.api.client import DEFAULT_API_URL, ApiClient, ApiConnectionError, ApiError
from engine.protocol import jsontext

API_ENV = "OCPP_TRIO_API"
TOKEN_ENV = "OCPP_TRIO_TOKEN"

BOOT_POLICIES = ("Accepted", "Pending", "Rejected", "PendingOnce", "RejectedOnce")
ID_TAG_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid")

Handler = Callable[[argparse.Namespace], int]


# -- output helpers ---------------------------------------------------------------------------------


def pretty_json(value: Any, indent: int = 2, _level: int = 0) -> str:
    """Indented JSON; ``Decimal`` numbers are written exactly (``json.dumps`` cannot)."""
    pad = " " * (indent * (_level + 1))
    end = " " * (indent * _level)
    if isinstance(value, dict) and value:
        items = [
            f"{pad}{jsontext.dumps(str(key))}: {pretty_json(item, indent, _level + 1)}"
            for key, item in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(value, list) and value:
        items = [pad + pretty_json(item, indent, _level + 1) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + end + "]"
    return jsontext.dumps(value)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(item) for item in value) or "-"
    if isinstance(value, dict):
        return jsontext.dumps(value)
    return str(value)


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain aligned text table (the last column is not padded)."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        for index, text in enumerate(row):
            widths[index] = max(widths[index], len(text))
    lines = []
    for row in [list(headers), *cells]:
        padded = [text.ljust(widths[index]) for index, text in enumerate(row[:-1])]
        lines.append("  ".join([*padded, row[-1]]).rstrip())
    return "\n".join(lines)


def _print_table(headers: Sequence[str], rows: list[Sequence[Any]], empty: str) -> None:
    print(format_table(headers, rows) if rows else empty)


def _print_fields(pairs: Sequence[tuple[str, Any]]) -> None:
    width = max(len(label) for label, _ in pairs) + 1
    for label, value in pairs:
        print(f"{(label + ':').ljust(width)} {_cell(value)}")


def _or_default(value: Any) -> Any:
    return "(default)" if value is None else value


def _fail(message: str, code: int = 1) -> int:
    print(f"ocpp-trio: {message}", file=sys.stderr)
    return code


# -- plumbing ------------------------------------------------------------------------------------------


def _client(args: argparse.Namespace) -> ApiClient:
    url = getattr(args, "api", None) or os.environ.get(API_ENV) or DEFAULT_API_URL
    token = getattr(args, "token", None) or os.environ.get(TOKEN_ENV) or None
    return ApiClient(url, token)


def _wants_json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False))


def _guarded(handler: Handler) -> Handler:
    """Turn API failures into a message on stderr and an exit code (2: unreachable, 1: refused)."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except ApiConnectionError as exc:
            return _fail(
                f"cannot reach the operator API at {exc.url} ({exc.reason}): is `ocpp-trio serve` running? "
                f"(set --api or ${API_ENV})",
                2,
            )
        except ApiError as exc:
            if exc.status == 401:
                return _fail(f"unauthorized: {exc.reason} (pass --token or set ${TOKEN_ENV})")
            message = f"{exc.error}: {exc.reason}"
            if exc.error == "call_error":
                details = exc.body.get("details")
                message += f" [code={exc.body.get('code')}"
                message += f" details={jsontext.dumps(details)}]" if details else "]"
            return _fail(message)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


def _common_options() -> argparse.ArgumentParser:
    # SUPPRESS defaults: a nested subcommand must not overwrite what the outer one was given.
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("operator API")
    group.add_argument(
        "--api",
        metavar="URL",
        default=argparse.SUPPRESS,
        help=f"the operator API (default ${API_ENV} or {DEFAULT_API_URL})",
    )
    group.add_argument(
        "--token", default=argparse.SUPPRESS, help=f"the API bearer token (default ${TOKEN_ENV})"
    )
    group.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the raw JSON answer"
    )
    return common


# -- handlers ------------------------------------------------------------------------------------------


def _vendor_model(charger: dict[str, Any]) -> str:
    info = charger.get("boot_info") or {}
    parts = [str(info[key]) for key in ("chargePointVendor", "chargePointModel") if info.get(key)]
    return " ".join(parts) or "-"


def cmd_chargers(args: argparse.Namespace) -> int:
    chargers = _client(args).chargers()
    if _wants_json(args):
        print(pretty_json(chargers))
        return 0
    rows: list[Sequence[Any]] = [
        (
            c.get("charger_id"),
            c.get("connected"),
            c.get("registration_status"),
            c.get("last_seen"),
            _vendor_model(c),
        )
        for c in chargers
    ]
    _print_table(("ID", "CONNECTED", "REGISTRATION", "LAST SEEN", "VENDOR/MODEL"), rows, "no chargers")
    return 0


def _connector_rows(connectors: list[dict[str, Any]]) -> list[Sequence[Any]]:
    return [
        (
            c.get("connector_id"),
            c.get("status"),
            c.get("error_code"),
            c.get("info"),
            c.get("status_timestamp"),
        )
        for c in connectors
    ]


def cmd_charger(args: argparse.Namespace) -> int:
    charger = _client(args).charger(args.charger_id)
    if _wants_json(args):
        print(pretty_json(charger))
        return 0
    info = charger.get("boot_info") or {}
    _print_fields(
        [
            ("id", charger.get("charger_id")),
            ("connected", charger.get("connected")),
            ("registration", charger.get("registration_status")),
            ("vendor/model", _vendor_model(charger)),
            ("firmware", info.get("firmwareVersion")),
            ("serial", info.get("chargePointSerialNumber")),
            ("boot policy", _or_default(charger.get("boot_policy"))),
            ("heartbeat", _or_default(charger.get("heartbeat_interval"))),
            ("flags", charger.get("flags")),
            ("first seen", charger.get("first_seen")),
            ("last seen", charger.get("last_seen")),
            ("last boot", charger.get("last_boot")),
        ]
    )
    print()
    _print_table(
        ("CONNECTOR", "STATUS", "ERROR", "INFO", "TIMESTAMP"),
        _connector_rows(charger.get("connectors") or []),
        "no connector status yet",
    )
    return 0


def _read_payload(text: str) -> dict[str, Any] | str:
    """The payload object, or an error message."""
    if text == "-":
        text = sys.stdin.read()
    try:
        payload = jsontext.loads(text)
    except jsontext.JsonTextError as exc:
        return f"PAYLOAD_JSON is not valid JSON: {exc.reason}"
    if not isinstance(payload, dict):
        return "PAYLOAD_JSON must be a JSON object"
    return payload


def cmd_call(args: argparse.Namespace) -> int:
    payload = _read_payload(args.payload)
    if isinstance(payload, str):
        return _fail(payload, 2)
    result = _client(args).call(args.charger_id, args.action, payload, timeout=args.timeout)
    print(pretty_json(result))
    return 0


def cmd_tags_list(args: argparse.Namespace) -> int:
    tags = _client(args).id_tags()
    if _wants_json(args):
        print(pretty_json(tags))
        return 0
    rows: list[Sequence[Any]] = [
        (t.get("id_tag"), t.get("status"), t.get("expiry_date"), t.get("parent_id_tag")) for t in tags
    ]
    _print_table(("ID TAG", "STATUS", "EXPIRY", "PARENT"), rows, "no id tags")
    return 0


def cmd_tags_add(args: argparse.Namespace) -> int:
    record = _client(args).put_id_tag(
        args.id_tag, args.status, expiry_date=args.expiry, parent_id_tag=args.parent
    )
    if _wants_json(args):
        print(pretty_json(record))
    else:
        print(f"{record.get('id_tag')}: {record.get('status')}")
    return 0


def cmd_tags_rm(args: argparse.Namespace) -> int:
    answer = _client(args).delete_id_tag(args.id_tag)
    print(pretty_json(answer) if _wants_json(args) else f"{args.id_tag}: removed")
    return 0


def _transaction_rows(transactions: list[dict[str, Any]]) -> list[Sequence[Any]]:
    return [
        (
            t.get("transaction_id"),
            t.get("charger_id"),
            t.get("connector_id"),
            t.get("id_tag"),
            t.get("start_timestamp"),
            t.get("stop_timestamp"),
            t.get("meter_start"),
            t.get("meter_stop"),
            t.get("active"),
        )
        for t in transactions
    ]


_TRANSACTION_HEADERS = (
    "ID",
    "CHARGER",
    "CONN",
    "ID TAG",
    "START",
    "STOP",
    "METER START",
    "METER STOP",
    "ACTIVE",
)


def cmd_transactions(args: argparse.Namespace) -> int:
    transactions = _client(args).transactions(
        charger_id=args.charger, active=True if args.active else None, limit=args.limit
    )
    if _wants_json(args):
        print(pretty_json(transactions))
        return 0
    _print_table(_TRANSACTION_HEADERS, _transaction_rows(transactions), "no transactions")
    return 0


def _sample_rows(meter_values: list[dict[str, Any]]) -> list[Sequence[Any]]:
    rows: list[Sequence[Any]] = []
    for meter_value in meter_values:
        for sample in meter_value.get("sampled_values") or []:
            if not isinstance(sample, dict):
                continue
            rows.append(
                (
                    meter_value.get("timestamp"),
                    sample.get("measurand", "Energy.Active.Import.Register"),
                    sample.get("phase"),
                    sample.get("value"),
                    sample.get("unit", "Wh"),
                    sample.get("context"),
                    meter_value.get("source"),
                )
            )
    return rows


def cmd_transaction(args: argparse.Namespace) -> int:
    transaction = _client(args).transaction(args.transaction_id)
    if _wants_json(args):
        print(pretty_json(transaction))
        return 0
    _print_fields(
        [
            ("transaction", transaction.get("transaction_id")),
            ("charger", transaction.get("charger_id")),
            ("connector", transaction.get("connector_id")),
            ("id tag", transaction.get("id_tag")),
            ("start status", transaction.get("start_status")),
            ("started", transaction.get("start_timestamp")),
            ("meter start", transaction.get("meter_start")),
            ("stopped", transaction.get("stop_timestamp")),
            ("meter stop", transaction.get("meter_stop")),
            ("stop reason", transaction.get("stop_reason")),
            ("active", transaction.get("active")),
            ("flags", transaction.get("flags")),
        ]
    )
    print()
    _print_table(
        ("TIMESTAMP", "MEASURAND", "PHASE", "VALUE", "UNIT", "CONTEXT", "SOURCE"),
        _sample_rows(transaction.get("meter_values") or []),
        "no meter values",
    )
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    records = _client(args).message_log(args.charger_id, limit=args.limit)
    if _wants_json(args):
        print(pretty_json(records))
        return 0
    if not records:
        print("no messages")
    # The API answers newest first; a log reads oldest first, like tail.
    for record in reversed(records):
        arrow = "<-" if record.get("direction") == "in" else "->"
        print(f"{record.get('at')} {arrow} {record.get('text')}")
    return 0


def _print_policy(policy: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(pretty_json(policy))
    else:
        _print_fields(list(policy.items()))


def cmd_policy_show(args: argparse.Namespace) -> int:
    _print_policy(_client(args).policy(), _wants_json(args))
    return 0


def _setting_value(text: str) -> Any:
    """``60`` → 60, ``true`` → True, ``null`` → None, ``Pending`` → "Pending" (JSON, else a string)."""
    try:
        value = jsontext.loads(text)
    except jsontext.JsonTextError:
        return text
    return text if isinstance(value, Decimal) else value


def cmd_policy_set(args: argparse.Namespace) -> int:
    changes: dict[str, Any] = {}
    for assignment in args.settings:
        key, sep, value = assignment.partition("=")
        if not sep or not key.strip():
            return _fail(f"expected KEY=VALUE, got {assignment!r}", 2)
        changes[key.strip().replace("-", "_")] = _setting_value(value.strip())
    _print_policy(_client(args).update_policy(**changes), _wants_json(args))
    return 0


def cmd_charger_policy(args: argparse.Namespace) -> int:
    charger = _client(args).set_charger_policy(
        args.charger_id,
        boot_policy=None if args.boot_policy in (None, "default") else args.boot_policy,
        heartbeat_interval=args.heartbeat_interval,
    )
    if _wants_json(args):
        print(pretty_json(charger))
        return 0
    _print_fields(
        [
            ("charger", charger.get("charger_id")),
            ("boot policy", _or_default(charger.get("boot_policy"))),
            ("heartbeat", _or_default(charger.get("heartbeat_interval"))),
        ]
    )
    return 0


# -- the parser -----------------------------------------------------------------------------------------


def _number_at_least(
    kind: type[int] | type[float], minimum: float, *, inclusive: bool = True
) -> Callable[[str], Any]:
    """An argparse ``type=`` that parses ``kind`` and refuses values below (or at) ``minimum``."""
    noun = "an integer" if kind is int else "a number"
    bound = f"at least {minimum:g}" if inclusive else f"above {minimum:g}"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {noun}: {text!r}") from None
        if value < minimum or (not inclusive and value == minimum):
            raise argparse.ArgumentTypeError(f"must be {bound}: {text}")
        return value

    return parse


_positive_int = _number_at_least(int, 1)
_non_negative_int = _number_at_least(int, 0)
_positive_float = _number_at_least(float, 0, inclusive=False)


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the operator commands (each talks to a running ``ocpp-trio serve`` over its HTTP API)."""
    common = _common_options()

    def add(name: str, handler: Handler, help_text: str, **kwargs: Any) -> argparse.ArgumentParser:
        parser = subparsers.add_parser(
            name, parents=[common], help=help_text, description=help_text, **kwargs
        )
        parser.set_defaults(func=_guarded(handler))
        return parser

    add("chargers", cmd_chargers, "list the known chargers")

    charger = add("charger", cmd_charger, "show one charger and its connectors")
    charger.add_argument("charger_id", metavar="ID")

    call = add("call", cmd_call, "send an OCPP CALL to a connected charger and print its answer")
    call.add_argument("charger_id", metavar="ID")
    call.add_argument("action", metavar="ACTION", help="e.g. RemoteStartTransaction, Reset, TriggerMessage")
    call.add_argument(
        "payload",
        metavar="PAYLOAD_JSON",
        nargs="?",
        default="{}",
        help="the payload object (default {}; - reads stdin)",
    )
    call.add_argument("--timeout", type=_positive_float, help="response timeout in seconds")

    tags = add("tags", cmd_tags_list, "list, add or remove id tags (default: list)")
    tag_commands = tags.add_subparsers(dest="tags_command", metavar="{list,add,rm}")
    tag_list = tag_commands.add_parser("list", parents=[common], help="list the id tags")
    tag_list.set_defaults(func=_guarded(cmd_tags_list))
    tag_add = tag_commands.add_parser("add", parents=[common], help="add or replace an id tag")
    tag_add.add_argument("id_tag", metavar="TAG")
    tag_add.add_argument("--status", default="Accepted", choices=ID_TAG_STATUSES, help="default Accepted")
    tag_add.add_argument("--expiry", metavar="DATE", help="expiry date-time (ISO 8601)")
    tag_add.add_argument("--parent", metavar="TAG", help="parent id tag")
    tag_add.set_defaults(func=_guarded(cmd_tags_add))
    tag_rm = tag_commands.add_parser("rm", parents=[common], help="remove an id tag")
    tag_rm.add_argument("id_tag", metavar="TAG")
    tag_rm.set_defaults(func=_guarded(cmd_tags_rm))

    transactions = add("transactions", cmd_transactions, "list transactions, newest first")
    transactions.add_argument("--charger", metavar="ID", help="only this charger's")
    transactions.add_argument("--active", action="store_true", help="only open transactions")
    transactions.add_argument("--limit", type=_positive_int, default=100, help="default 100")

    transaction = add("transaction", cmd_transaction, "show one transaction with its meter values")
    transaction.add_argument("transaction_id", metavar="ID", type=int)

    log = add("log", cmd_log, "show a charger's OCPP message log")
    log.add_argument("charger_id", metavar="ID")
    log.add_argument("--limit", type=_positive_int, default=100, help="newest N messages (default 100)")

    policy = add("policy", cmd_policy_show, "show or change the default policy (default: show)")
    policy_commands = policy.add_subparsers(dest="policy_command", metavar="{show,set}")
    policy_show = policy_commands.add_parser("show", parents=[common], help="show the default policy")
    policy_show.set_defaults(func=_guarded(cmd_policy_show))
    policy_set = policy_commands.add_parser(
        "set",
        parents=[common],
        help="change policy fields: boot=Pending heartbeat_interval=60 accept_unknown_id_tags=true …",
    )
    policy_set.add_argument("settings", metavar="KEY=VALUE", nargs="+")
    policy_set.set_defaults(func=_guarded(cmd_policy_set))

    charger_policy = add(
        "charger-policy",
        cmd_charger_policy,
        "set one charger's boot policy and heartbeat interval; an option left out means "
        "'use the default policy'",
    )
    charger_policy.add_argument("charger_id", metavar="ID")
    charger_policy.add_argument(
        "--boot-policy", choices=[*BOOT_POLICIES, "default"], help="default: use the default policy"
    )
    charger_policy.add_argument(
        "--heartbeat-interval",
        type=_non_negative_int,
        metavar="N",
        help="seconds; default: the default policy's",
    )
