module github.com/agentops/orgdb/bench

go 1.26.0

require (
	github.com/agentops/orgdb v0.0.0
	github.com/mattn/go-sqlite3 v1.14.53
	golang.org/x/perf v0.0.0-20260908200009-22c9c6c9d4da
	gorm.io/driver/sqlite v1.6.0
	gorm.io/gorm v1.31.1
)

require (
	github.com/aclements/go-moremath v0.0.0-20210112150236-f10218a38794 // indirect
	github.com/jinzhu/inflection v1.0.0 // indirect
	github.com/jinzhu/now v1.1.5 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.42.0 // indirect
)

replace github.com/agentops/orgdb => ../

tool golang.org/x/perf/cmd/benchstat
