"""The operator API: one async Python surface (:class:`OperatorApi`), with HTTP and CLI layers over it."""
