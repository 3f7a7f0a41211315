"""Session storage (SQLite): schema and migrations, the writer thread, queries for summaries and history.
No Qt."""
