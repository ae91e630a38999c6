"""Task forms drawn from JSON Schema (schema_form) and the directories their select lists come from (options)."""
