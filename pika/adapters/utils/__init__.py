"""Shared I/O utilities used by the connection adapters."""
