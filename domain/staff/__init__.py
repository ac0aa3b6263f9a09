"""Staff: signing in, the staff directory, and the rules about accounts (which roles go together, what a
password must be)."""
