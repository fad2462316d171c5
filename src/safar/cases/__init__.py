"""Cases: owned follow-ups of what a customer told us (a detractor answer, a journey's request,
an agent's ticket), each with an append-only event log and events on the customer's timeline."""
