package backup_test

import (
	"log"
	"os"
	"testing"

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

// size is the size of the file at path, 0 if there is none.
func size(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
