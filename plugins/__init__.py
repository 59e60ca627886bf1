"""Built-in alvh plugins, installed as the package `rules_engine_plugins`."""
