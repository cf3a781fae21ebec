"""The care pages: the work lists, a task, the store manager's late tasks by staff and the rules."""
