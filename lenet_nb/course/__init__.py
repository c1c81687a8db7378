"""The course's own tools, which learners never import: notebook checks, the report, the student
edition, the sources table."""
