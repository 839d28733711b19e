"""Models of workflows."""
