package backup

// WithBackupStep is withBackupStep, for the external tests.
var WithBackupStep = withBackupStep

// WithRestoreHook is withRestoreHook, for the external tests.
var WithRestoreHook = withRestoreHook
