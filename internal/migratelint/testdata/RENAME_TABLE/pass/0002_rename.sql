/* lint:allow RENAME_TABLE no binary reads parents yet */
ALTER TABLE "parents" RENAME TO owners;
