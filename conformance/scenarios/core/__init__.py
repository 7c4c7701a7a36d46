"""Core profile: the 34 OCTT 1.6 CSMS cases of sections 3.1–3.13 and 3.20 (octt-csms-cases.md §5.1–5.4)."""
