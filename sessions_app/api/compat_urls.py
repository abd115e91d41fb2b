"""The old system's paths (seed §5, SPEC §13), kept answering with a deprecation notice."""

urlpatterns: list = []
