"""Release checklists: Markdown templates, named sign-offs, an approval gate and a hash-chained trail."""
