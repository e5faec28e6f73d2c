package backup_test

import (
	"log"

	"github.com/agentops/orgdb/store"
)

// operator is the operator acting in the tests.
var operator = store.Operator("backup tests")

// check stops an example on an error.
func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
