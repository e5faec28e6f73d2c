module github.com/agentops/orgdb

go 1.26.0

require github.com/mattn/go-sqlite3 v1.14.53

require (
	github.com/creack/pty v1.1.24
	github.com/spf13/cobra v1.10.2
	github.com/spf13/pflag v1.0.9
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
	golang.org/x/tools v0.51.0
)

require github.com/inconshreveable/mousetrap v1.1.0 // indirect
