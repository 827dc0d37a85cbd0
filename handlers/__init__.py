"""Lambda entry points: thin handlers that parse the event, call a domain, shape the response."""
