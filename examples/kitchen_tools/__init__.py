"""Python tools for a cooking assistant: an example of `kind: python` tools (see the README)."""
