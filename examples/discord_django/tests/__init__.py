"""The example project's tests (a package, so its conftest does not shadow python/tests' one)."""
