"""The OCA-style conformance suite: a charge-point simulator that replays TC_xxx_CSMS scenarios."""
