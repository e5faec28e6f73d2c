UPDATE items SET label = trim(label);
