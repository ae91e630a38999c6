"""Task forms drawn from JSON Schema (fields, build, errors, conversion, raw_values, summary) and the directories
their select lists come from (options)."""
