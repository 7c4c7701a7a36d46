"""The OCA-style conformance suite: a charge-point simulator that replays the OCTT ``TC_xxx_CSMS`` test
cases against any OCPP 1.6-J Central System and reports like a certificate's "Abstract of the Test
Report". See ``conformance/README.md``; ``ocpp-trio conformance run|list`` (or ``python -m conformance``)
is the command line.
"""
