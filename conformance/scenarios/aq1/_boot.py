"""Shared pieces of the AQ-1 boot cases."""

from conformance.steps import Computed, Context

#: how long the charger waits before booting again: the CSMS's ``interval`` (C §4.2: the minimum wait),
#: or the configured fallback when the CSMS sends 0 ("the charger chooses")


def _retry_seconds(ctx: Context) -> float:
    interval = ctx.values.get("bootInterval", 0)
    if isinstance(interval, int) and interval > 0:
        return float(interval)
    return ctx.config.boot_retry_when_zero


RETRY_INTERVAL = Computed(_retry_seconds, "interval from BootNotification.conf")
