"""The edge: who may reach the core at all (API keys, Host and Origin checks)."""
