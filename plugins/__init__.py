"""Built-in endpoint groups; each sub-package is a plugin enabled by name in plugins.toml."""
