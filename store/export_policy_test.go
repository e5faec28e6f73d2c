package store

// WithAfterAuthorize is withAfterAuthorize, for the external tests.
var WithAfterAuthorize = withAfterAuthorize
