"""AQ-1, "Can your CSMS be configured to first respond to a BootNotificationRequest with status Pending or
Rejected?" — reconstructed cases R-01 and R-02 (octt-csms-cases.md §6, §7). Not OCA text and not
certification criteria; the report answers AQ-1 from them.
"""
