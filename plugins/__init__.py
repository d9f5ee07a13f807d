"""Built-in plugins: registered by name exactly like third-party plugins."""
