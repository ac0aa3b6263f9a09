"""The credit factory's use cases (信贷工厂): intake, assignment, investigation and approval of credit applications."""
