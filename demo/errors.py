"""What the demo generator refuses."""


class DemoDataError(RuntimeError):
    """The database cannot take the demo county, or the county cannot be made as asked."""
