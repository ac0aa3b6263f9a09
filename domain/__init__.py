"""Pure business rules of Palm Credit: no I/O, no ORM, no GraphQL."""
