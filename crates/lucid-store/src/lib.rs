//! The Store: one interface over SQLite (embedded default) and MongoDB.
