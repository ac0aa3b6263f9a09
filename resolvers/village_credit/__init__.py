"""Whole-village credit's use cases (整村授信): campaigns, their steps and the household surveys."""
