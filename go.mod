module github.com/agentops/orgdb

go 1.26.0

require github.com/mattn/go-sqlite3 v1.14.53

require golang.org/x/tools v0.51.0
