"""The transport-agnostic execution core: validate, normalize, decide, execute, audit."""
