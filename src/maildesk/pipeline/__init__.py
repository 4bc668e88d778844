"""Pure steps of the mail flow: no IO, no clock, no database."""
