"""Stand-in Django app with the guide's two models, used by the benchmarks only until (or
where) the example project's own models are not available."""
