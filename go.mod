module github.com/agentops/orgdb

go 1.26.0

require github.com/mattn/go-sqlite3 v1.14.53

require (
	golang.org/x/mod v0.41.0 // indirect
	golang.org/x/sync v0.23.0 // indirect
	golang.org/x/tools v0.51.0
)
