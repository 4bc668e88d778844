"""Mail a limit holds back — floods, bursts of follow-ups, auto-responder loops — is
kept (outbox status `held`, with its reason), never dropped, and summarised later:
one summary per window instead of one mail per message."""
