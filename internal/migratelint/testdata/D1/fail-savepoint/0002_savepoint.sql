CREATE TABLE tags (name TEXT);
SAVEPOINT before_vacuum;
