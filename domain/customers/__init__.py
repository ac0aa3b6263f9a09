"""Customers: identity numbers, phones, masking, the checks of their fields."""
