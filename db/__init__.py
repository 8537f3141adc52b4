"""compfeed's database: the schema, its migrations, and the functions that read and
write it. Nothing outside this package writes SQL."""
