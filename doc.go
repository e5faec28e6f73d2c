// Package orgdb holds the hand-written types of the organization data
// layer: the enums (roles, integration scopes, LLM providers), the column
// types that map SQLite storage to Go ([Time], [Bool], [EmailList]) and the
// [Error] family the service maps to HTTP statuses.
//
// It is the leaf of the project: the generated package gen/db uses these
// types for its models and parameters, and it imports nothing of orgdb.
package orgdb
