"""Small shared helpers below every app: this package imports no app of ours (only Django)."""
