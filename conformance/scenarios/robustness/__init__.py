"""Robustness — the project's bad-input catalogue (ocpp16-rules.md §10.1–10.5) sent to the CSMS, each
row with its exact expected reaction (design.md decisions win where they differ from the catalogue).

NOT an OCA certification profile: opt-in (``--profiles robustness``), reported on its own row. One module
per group of rows; each group ends with a check that the CSMS still serves a well-behaved charger.
"""
