"""Background work: arq WorkerSettings (settings), the task adapters the queue calls (tasks) and scheduled
jobs (schedule). Tasks take ids and call resolvers/; nothing here holds business rules."""
