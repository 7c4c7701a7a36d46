"""The test cases, one module per case, grouped in one package per profile (``core``, ``aq1``, and later
``local_auth``, ``firmware``, ``reservation``, ``remote_trigger``, ``smart_charging``, ``security``).

Adding a case is writing a module here; :func:`conformance.scenario.discover` finds it.
"""
