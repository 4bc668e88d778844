"""Throwaway real servers (Dovecot IMAP, PostgreSQL) for integration tests."""
