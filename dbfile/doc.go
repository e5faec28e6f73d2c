// Package dbfile is the one place that opens and inspects an orgdb
// database file. It owns:
//
//   - the DSNs: [DSN] (the writer and the migration runner), [ReadDSN] (a
//     read pool beside the writer), [ReadOnlyDSN] (reading a file without
//     changing it), and [URI], which builds every one of them;
//   - the driver construction: go-sqlite3 drivers as values, never
//     registered by name ([WriterDriver], [ReaderDriver],
//     [CheckpointDriver], [PlainDriver]), and pools of them ([Pool]);
//   - the path checks: [CheckPath] (no ":memory:", no "file:" URI),
//     [Regular] (no FIFO, device, socket or directory), [ReadOnlyFS];
//   - the inspection of a file without changing it ([Inspect], [Check])
//     and the one refusal of a file that is not orgdb's ([NotOrgdb],
//     reason not_orgdb);
//   - what every writer does before opening a file ([PrepareWriter]),
//     for the store's Open and `orgdb migrate` alike.
//
// It imports the root package (errors), schema (the migrations and the
// runner's status API) and internal/privfile, nothing else of orgdb: the
// store, the file operations (package backup), LiteFS awareness (package
// litefs) and the CLI import it. docs/packages.md has the whole map.
package dbfile
