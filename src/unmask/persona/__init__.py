"""Persona against behaviour: behavioural time zones, claimed places, and the persona checks."""
