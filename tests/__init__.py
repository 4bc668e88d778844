"""maildesk tests."""
