"""Whole-village credit in the graph (整村授信): campaigns, their steps and household surveys."""
