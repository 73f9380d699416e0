"""Counter tablets (kiosks): registered devices, tickets, and their evaluations."""
