"""Credit: loans, credit lines and their classification."""
