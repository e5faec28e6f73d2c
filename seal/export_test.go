package seal

// ParseKeyWith exposes parseKeyWith to the fuzz test: ParseKey with a cheap
// passphrase derivation in place of PBKDF2.
var ParseKeyWith = parseKeyWith
