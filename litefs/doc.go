// Package litefs is orgdb's LiteFS awareness: what it reads of a LiteFS
// mount (github.com/superfly/litefs) beside a database file. It owns:
//
//   - detection of the mount ([Detect], [MountOf], [OnLiteFS], [Require]);
//   - the node's role: primary, replica of a host, or replica with no
//     primary reachable ([Node.Role], [Role]), and the one refusal of a
//     write on a replica ([NotPrimary], [RefuseOnReplica]);
//   - replication positions and waiting for one ([Pos], [ParsePos],
//     [Node.Pos], [Node.WaitFor]);
//   - a replica's wait for the primary's schema at open
//     ([Node.AwaitSchema]).
//
// The store consults a *Node through a small interface (may this node
// write; where is the primary; which position has it reached) and holds no
// LiteFS code of its own; the file operations (package backup) and
// `orgdb migrate` ask it before they write. It imports the root package,
// schema and dbfile, never the store. docs/packages.md has the whole map.
package litefs
