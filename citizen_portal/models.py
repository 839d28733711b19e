"""Models of citizen_portal."""
