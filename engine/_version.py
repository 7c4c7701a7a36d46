"""The single place the package version lives (read by pyproject and `ocpp-trio --version`)."""

__version__ = "0.1.0"
