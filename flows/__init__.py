"""compfeed's pipeline: one module per stage, the Prefect flows that compose them, and
the command line on top."""

from flows.settings import apply_prefect_defaults

apply_prefect_defaults()
