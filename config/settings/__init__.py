"""Settings split by environment: base (shared), dev, test, production. All values come from env vars."""
