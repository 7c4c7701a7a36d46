"""TC_064_CSMS — Data Transfer to a Central System (§3.20.1, Tbl 183).

DataTransfer with a vendorId the CSMS does not support: [V] status Rejected, UnknownMessageId or
UnknownVendorId (Accepted is tolerated with a warning). A CALLERROR (NotSupported, NotImplemented) fails.
"""

from conformance.steps import Cfg, OneOf, Send, Warn

ID = "TC_064_CSMS"
TITLE = "Data Transfer to a Central System"
PROFILE = "Core"
SECTION = "3.20.1"
SOURCE = "Tbl 183"

STEPS = [
    Send(
        "DataTransfer",
        {
            "vendorId": Cfg("data_transfer_vendor_id"),
            "messageId": Cfg("data_transfer_message_id"),
            "data": "test",
        },
        checks=[
            OneOf("status", ["Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId"]),
            Warn(OneOf("status", ["Rejected", "UnknownMessageId", "UnknownVendorId"])),
        ],
    ),
]
