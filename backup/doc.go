// Package backup is orgdb's file operations: what is done to a database
// file as a whole, by path, beside the service or without it. It owns:
//
//   - backups: [FromStore] (from a store open in this process, on one of
//     its readers) and [File] (from a path, read-only), both with SQLite's
//     online backup API inside one read transaction, checked and fsynced
//     before they are moved into place;
//   - restores: [Restore], which checks a backup (integrity, migrations,
//     catalog) on a private copy and copies it into a closed database in
//     place, keeping the previous one;
//   - the lock-out: the locks that keep every other process (SQLite's own
//     locks included) away from a database while it is replaced, and the
//     refusal of a database in use (reasons in_use, live_database);
//   - the temporary copies beside a database and the sweep of those a
//     killed process left ([StaleCopies]).
//
// It opens files through dbfile, asks litefs before it writes near a
// LiteFS mount, and uses the migration runner (schema) to check a
// backup's schema. It imports the store only for [store.Translate], the
// error interpretation every operation shares, and for FromStore's
// *store.Store; the store never imports it. docs/packages.md has the whole
// map.
package backup
