"""Staff: signing in and the staff directory."""
