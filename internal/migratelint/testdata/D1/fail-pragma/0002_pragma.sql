PRAGMA main.journal_mode = WAL;
