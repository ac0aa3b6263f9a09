"""Staff: the directory of colleagues and, in time, their administration."""
