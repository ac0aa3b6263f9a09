"""Use cases: load, authorize, apply domain rules, persist. Called by schema/ and workers/ alike."""
