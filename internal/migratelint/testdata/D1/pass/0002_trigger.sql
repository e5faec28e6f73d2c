-- A trigger body is no transaction: BEGIN; here is a comment, and so is
/* COMMIT; */
CREATE TABLE tags (name TEXT DEFAULT 'BEGIN;');
CREATE TRIGGER tags_name BEFORE INSERT ON tags
WHEN NEW.name = 'END;'
BEGIN
  SELECT RAISE(ABORT, 'no END; here');
  UPDATE parents SET name = 'begin' WHERE id = NEW.name;
END;
PRAGMA foreign_keys;
