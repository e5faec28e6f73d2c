package seal_test

import (
	"fmt"
	"log"
	"os"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/seal"
)

// Seal and open a provider key; the plaintext never prints.
func ExampleKey_Seal() {
	os.Setenv(seal.EnvVar, seal.GenerateKey()) // in production: set by the deployment
	key, err := seal.KeyFromEnv(os.Getenv)     // fails clearly on a missing or malformed key
	if err != nil {
		log.Fatal(err)
	}
	secret := seal.NewSecret("sk-ant-example")
	sealed, _ := key.Seal(orgdb.ProviderAnthropic, secret)

	opened, _ := key.Open(orgdb.ProviderAnthropic, sealed)
	_, err = key.Open(orgdb.ProviderOpenAI, sealed) // moved to another provider's row
	fmt.Println(secret, opened.Reveal() == "sk-ant-example")
	fmt.Println(err)
	// Output:
	// [REDACTED] true
	// openai key failed authentication: tampered with, truncated or copied from another provider
}
